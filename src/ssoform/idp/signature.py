"""Signed SAML metadata: verified against the certificate the manifest gives
(`saml.metadata_signing_certificate`), and only what the signature covers is used.

The document has already passed defusedxml (no DTD, no entities) before signxml sees it, and
lxml is told not to resolve entities, load a DTD or touch the network. An unsigned document, a
signature by another key or over changed content is an `IdpDocumentError`.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from ssoform.idp.saml import IdpDocumentError

__all__ = ["verified_metadata"]


def verified_metadata(body: bytes, certificate_pem: str) -> bytes:
    """The signed document (the root element the signature covers), serialised; raises
    IdpDocumentError when the signature is missing or does not verify."""
    try:
        fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise IdpDocumentError(
            f"refused: {type(exc).__name__} (DTDs and entities are not allowed)"
        ) from None
    except ParseError:
        pass  # lxml below says it is not well-formed
    from lxml import etree  # type: ignore[import-untyped]
    from signxml.exceptions import SignXMLException
    from signxml.verifier import SignatureConfiguration, XMLVerifier

    parser = etree.XMLParser(
        resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False
    )
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError:
        raise IdpDocumentError("not well-formed XML") from None
    if root.find("{http://www.w3.org/2000/09/xmldsig#}Signature") is None:
        raise IdpDocumentError("unsigned, but the manifest gives metadata_signing_certificate")
    try:
        result: Any = XMLVerifier().verify(
            root,
            x509_cert=certificate_pem,
            parser=parser,
            expect_config=SignatureConfiguration(location="./"),
        )
    except SignXMLException as exc:
        reason = " ".join(str(exc).split())[:160]
        raise IdpDocumentError(f"the signature does not verify ({reason})") from None
    signed = result.signed_xml
    return bytes(etree.tostring(signed))
