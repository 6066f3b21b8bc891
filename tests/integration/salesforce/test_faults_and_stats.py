from __future__ import annotations

import pytest
import requests

from tests.integration.salesforce.support import RunningSalesforce

pytestmark = pytest.mark.integration

DATA = ["/services/data"]


def test_injected_server_error_has_salesforce_error_shape(sf: RunningSalesforce) -> None:
    token = sf.token()
    sf.admin(
        "POST", "/faults", json={"error_rate": 1.0, "error_status": 503, "path_prefixes": DATA}
    )
    response = sf.api("GET", "/limits", token)
    assert response.status_code == 503
    assert response.json()[0]["errorCode"] == "SERVER_UNAVAILABLE"
    sf.admin("DELETE", "/faults")
    assert sf.api("GET", "/limits", token).status_code == 200


def test_injected_rate_limit_carries_retry_after(sf: RunningSalesforce) -> None:
    token = sf.token()
    sf.admin(
        "POST", "/faults", json={"rate_limit_rate": 1.0, "retry_after_s": 7, "path_prefixes": DATA}
    )
    response = sf.api("GET", "/limits", token)
    assert response.status_code == 429 and response.headers["Retry-After"] == "7"


def test_injected_drop_closes_the_connection(sf: RunningSalesforce) -> None:
    token = sf.token()
    sf.admin("POST", "/faults", json={"drop_rate": 1.0, "path_prefixes": DATA})
    dropped = (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)
    with pytest.raises(dropped):
        sf.api("GET", "/limits", token)
    assert sf.admin("GET", "/faults")["injected"]["drop"] == 1


def test_faults_can_spare_the_token_endpoint(sf: RunningSalesforce) -> None:
    sf.admin("POST", "/faults", json={"error_rate": 1.0, "path_prefixes": DATA})
    assert sf.token()


def test_stats_count_requests_per_route_template(sf: RunningSalesforce) -> None:
    token = sf.token()
    sf.admin("DELETE", "/stats")
    task_ids = [
        sf.api("POST", "/sobjects/Task/", token, json={"Subject": str(n)}).json()["id"]
        for n in range(2)
    ]
    for task_id in task_ids:
        sf.api("GET", f"/sobjects/Task/{task_id}", token)
    sf.api("GET", "/query", token, params={"q": "SELECT Id FROM Nope"})
    stats = sf.admin("GET", "/stats")
    assert stats["total"] == 5
    requests_by_route = stats["requests"]
    assert requests_by_route["GET /services/data/{version}/sobjects/{sobject}/{record_id}"] == 2
    assert requests_by_route["POST /services/data/{version}/sobjects/{sobject}/"] == 2
    assert stats["statuses"] == {"201": 2, "200": 2, "400": 1}


def test_injected_faults_are_counted_in_stats(sf: RunningSalesforce) -> None:
    token = sf.token()
    sf.admin("DELETE", "/stats")
    sf.admin("POST", "/faults", json={"error_rate": 1.0, "path_prefixes": DATA})
    sf.api("GET", "/limits", token)
    assert sf.admin("GET", "/stats")["statuses"] == {"503": 1}
