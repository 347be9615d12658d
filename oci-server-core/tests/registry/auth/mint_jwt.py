"""Mints one JWT with PyJWT, an implementation independent of the registry's, for the tests.

Reads a JSON request on standard input and prints the token:

    {"alg": "ES256", "key": "signer.key", "claims": {...}, "headers": {...},
     "x5c": ["leaf.pem", "ca.pem"], "libtrust_kid": "leaf.pem", "hmac_secret": "ca.pem"}

- "x5c": certificate files whose DER goes into the `x5c` header, in order.
- "libtrust_kid": a certificate whose key's libtrust id becomes the `kid` header (the SHA-256
  of the DER SubjectPublicKeyInfo cut to 240 bits, base32, groups of four joined by ':').
- "hmac_secret": sign HS256 with this file's bytes as the secret (the classic attack of
  "verifying" with a public key as an HMAC secret); PyJWT refuses to do that, so the
  signature is computed here with the standard library.
- "alg": "none" signs nothing.

With {"jwks": [{"key": "a.key", "kid": "a"}, ...]} instead, prints a JWKS of those private
keys' public halves, each with its `kid`.

With {"libtrust_id": "cert.pem"} instead, prints the libtrust id of the certificate's key.

With {"verify": TOKEN, "cert": "leaf.pem", "alg": "ES256", "issuer": ..., "audience": ...}
instead, verifies TOKEN with the certificate's key (signature, exp, nbf, iss, aud) and
prints its claims; exits non-zero when PyJWT refuses it.
"""

import base64
import hashlib
import hmac
import json
import sys

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm


def load_cert(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def libtrust_kid(path):
    spki = load_cert(path).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    encoded = base64.b32encode(hashlib.sha256(spki).digest()[:30]).decode()
    return ":".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwk(entry):
    with open(entry["key"], "rb") as f:
        public = serialization.load_pem_private_key(f.read(), None).public_key()
    if isinstance(public, ec.EllipticCurvePublicKey):
        key = ECAlgorithm.to_jwk(public, as_dict=True)
    elif isinstance(public, rsa.RSAPublicKey):
        key = RSAAlgorithm.to_jwk(public, as_dict=True)
    elif isinstance(public, ed25519.Ed25519PublicKey):
        key = OKPAlgorithm.to_jwk(public, as_dict=True)
    else:
        raise SystemExit("unsupported key type")
    key["kid"] = entry["kid"]
    return key


def main():
    request = json.load(sys.stdin)
    if "jwks" in request:
        print(json.dumps({"keys": [jwk(entry) for entry in request["jwks"]]}))
        return
    if "libtrust_id" in request:
        print(libtrust_kid(request["libtrust_id"]))
        return
    if "verify" in request:
        claims = jwt.decode(
            request["verify"],
            load_cert(request["cert"]).public_key(),
            algorithms=[request["alg"]],
            issuer=request["issuer"],
            audience=request["audience"],
            options={"require": ["exp", "iss", "aud"]},
        )
        print(json.dumps(claims))
        return
    headers = dict(request.get("headers", {}))
    if "x5c" in request:
        headers["x5c"] = [
            base64.b64encode(load_cert(p).public_bytes(serialization.Encoding.DER)).decode()
            for p in request["x5c"]
        ]
    if "libtrust_kid" in request:
        headers["kid"] = libtrust_kid(request["libtrust_kid"])
    claims = request["claims"]
    alg = request["alg"]
    if "hmac_secret" in request:
        with open(request["hmac_secret"], "rb") as f:
            secret = f.read()
        header = dict(headers, alg="HS256", typ="JWT")
        signing_input = (
            b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
        )
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        print(signing_input + "." + b64url(signature))
        return
    if alg == "none":
        print(jwt.encode(claims, None, algorithm="none", headers=headers))
        return
    with open(request["key"], "rb") as f:
        key = f.read()
    print(jwt.encode(claims, key, algorithm=alg, headers=headers))


if __name__ == "__main__":
    main()
