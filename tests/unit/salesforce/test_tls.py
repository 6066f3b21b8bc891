from __future__ import annotations

import ipaddress
from pathlib import Path

from cryptography import x509

from emulators.salesforce import ensure_certificate


def test_certificate_names_127_0_0_1_and_localhost(tmp_path: Path) -> None:
    cert_path, key_path = ensure_certificate(tmp_path)
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert key_path.stat().st_mode & 0o077 == 0


def test_existing_certificate_is_reused(tmp_path: Path) -> None:
    first = [p.read_bytes() for p in ensure_certificate(tmp_path)]
    second = [p.read_bytes() for p in ensure_certificate(tmp_path)]
    assert first == second
