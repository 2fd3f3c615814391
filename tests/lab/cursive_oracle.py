"""cursive as an oracle: does Nova accept this image's signature?

    python cursive_oracle.py IMAGE PROPERTIES_JSON [--trusted UUID]... [--validate]

Runs what Nova's image download does (nova/image/glance.py, _get_verifier and
the download loop) with cursive unchanged: signature_utils.get_verifier with
the four img_signature* properties (a property absent from the JSON object
is passed as None, as Nova does), then, when trusted certificate UUIDs are
given or --validate is set, certificate_utils.verify_certificate against them
(Nova refuses when validation is on and no trusted certificate is given),
then feeds IMAGE through the verifier in 64 KiB chunks and verifies.

The certificates come from the Barbican lab (BARBICAN_URL, and
BARBICAN_PROJECT_ID for X-Project-Id) through castellan's BarbicanKeyManager,
unchanged too, except that its client is an unauthenticated barbicanclient
(no Keystone in the lab) instead of one from a Keystone session.

Prints one line, `VERIFIED` or `REFUSED: <cursive's reason>`, and exits 0
either way; exits 2 on a usage or set-up error.
"""

import json
import os
import sys


def key_manager_for_lab():
    """castellan's Barbican key manager, talking to the lab without Keystone."""
    from barbicanclient import client as barbican_client
    from castellan.key_manager import barbican_key_manager
    from keystoneauth1 import session

    client = barbican_client.Client(
        session=session.Session(),
        endpoint=os.environ["BARBICAN_URL"],
        project_id=os.environ.get("BARBICAN_PROJECT_ID", "glance-client-lab"),
    )
    barbican_key_manager.BarbicanKeyManager._get_barbican_client = lambda self, context: client


def verdict(image, properties, trusted, validate):
    from cursive import certificate_utils, exception, signature_utils

    uuid = properties.get("img_signature_certificate_uuid")
    try:
        verifier = signature_utils.get_verifier(
            context=None,
            img_signature_certificate_uuid=uuid,
            img_signature_hash_method=properties.get("img_signature_hash_method"),
            img_signature=properties.get("img_signature"),
            img_signature_key_type=properties.get("img_signature_key_type"),
        )
        if trusted:
            certificate_utils.verify_certificate(None, uuid, trusted)
        elif validate:
            return "REFUSED: certificate validation enabled, but no trusted certificate IDs"
        with open(image, "rb") as f:
            for chunk in iter(lambda: f.read(65536), b""):
                verifier.update(chunk)
        verifier.verify()
    except exception.SignatureVerificationError as e:
        return f"REFUSED: {e}"
    except Exception as e:  # cryptography's InvalidSignature, castellan's errors
        return f"REFUSED: {type(e).__name__}: {e}"
    return "VERIFIED"


def main(argv):
    args, trusted, validate = [], [], False
    it = iter(argv)
    for arg in it:
        if arg == "--trusted":
            trusted.append(next(it, ""))
        elif arg == "--validate":
            validate = True
        else:
            args.append(arg)
    if len(args) != 2 or "BARBICAN_URL" not in os.environ:
        print(__doc__, file=sys.stderr)
        return 2
    with open(args[1]) as f:
        properties = json.load(f)
    key_manager_for_lab()
    print(verdict(args[0], properties, trusted, validate))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
