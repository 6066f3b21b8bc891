"""The Pub/Sub API wire definitions: ours are Salesforce's, and both generated copies agree."""

from __future__ import annotations

from connectors.salesforce.pubsub.proto import pubsub_api_pb2 as client_pb2
from emulators.salesforce.pubsub.proto import pubsub_api_pb2 as emulator_pb2


def test_client_and_emulator_copies_are_one_definition() -> None:
    assert client_pb2.DESCRIPTOR.serialized_pb == emulator_pb2.DESCRIPTOR.serialized_pb
    assert client_pb2.FetchRequest is emulator_pb2.FetchRequest  # one protobuf pool entry


def test_our_proto_compiles_to_the_descriptor_salesforces_own_file_gives() -> None:
    # sfprotostash ships stubs generated from Salesforce's pubsub_api.proto unchanged.
    from sfprotostash import pubsub_api_pb2 as salesforce_pb2

    assert client_pb2.DESCRIPTOR.serialized_pb == salesforce_pb2.DESCRIPTOR.serialized_pb


def test_service_paths_and_field_numbers_match_the_published_api() -> None:
    service = client_pb2.DESCRIPTOR.services_by_name["PubSub"]
    assert service.full_name == "eventbus.v1.PubSub"
    assert [m.name for m in service.methods] == [
        "Subscribe",
        "GetSchema",
        "GetTopic",
        "Publish",
        "PublishStream",
        "ManagedSubscribe",
    ]
    fetch = client_pb2.FetchRequest.DESCRIPTOR.fields_by_name
    assert {name: fetch[name].number for name in fetch} == {
        "topic_name": 1,
        "replay_preset": 2,
        "replay_id": 3,
        "num_requested": 4,
        "auth_refresh": 5,
    }
