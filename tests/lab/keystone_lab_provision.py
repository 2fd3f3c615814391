"""Provision a fresh (or already provisioned) lab Keystone for glance-client tests.

Run by start-keystone.sh after ``keystone-manage bootstrap``, with the venv's
python and only the standard library. Idempotent: running it again finds what
exists and repairs passwords, endpoints and the application credential.

Creates, in the Default domain:
  projects  service, demo, alt, no-image
  users     demo (member on demo and on no-image), alt (member on alt: a
            second project), glance (admin and service on service: what
            auth_token logs in as)
  catalog   service type "image" with public and internal endpoints GLANCE_URL
            in region KS_REGION; project no-image is limited (OS-EP-FILTER) to
            the identity endpoints, so its tokens carry no image service
  app cred  "glance-client-lab" of demo, on project demo, with a fixed secret

Also points the identity endpoints at KS_URL/v3 (a lab copied from a template
listens elsewhere than the one that made it).

Reads KS_URL, KS_REGION, KS_GLANCE_URL and the KS_*_PASSWORD / KS_APP_CRED_SECRET
variables; prints KEY=VALUE lines with the ids it made. With KS_TRUST_PASSWORDS=1
(a lab made from a template of these same secrets) it skips checking each
password and the application credential by logging in: those bcrypt checks
are most of its time.
"""

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

ENV = os.environ
API = ENV["KS_URL"].rstrip("/") + "/v3"
DOMAIN = {"id": "default"}
APP_CRED = "glance-client-lab"
TRUST = ENV.get("KS_TRUST_PASSWORDS") == "1"


class Failed(Exception):
    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code


class Session:
    """A token that logs in again once Keystone refuses it: with
    KEYSTONE_TOKEN_EXPIRATION of a few seconds, provisioning outlives one."""

    def __init__(self, user, password, scope):
        self.args = (user, password, scope)
        self.token = self.login()

    def login(self):
        token = login(*self.args)
        if not token:
            raise Failed(f"{self.args[0]} cannot log in with scope {self.args[2]}")
        return token


def call(method, path, body=None, token=None):
    """One identity API call: (status, headers, decoded JSON or None).
    token is a token or a Session, renewed and the call repeated on a 401."""
    if isinstance(token, Session):
        try:
            return call(method, path, body, token.token)
        except Failed as e:
            if e.code != 401:
                raise
            token.token = token.login()
            return call(method, path, body, token.token)
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    if token:
        headers["X-Auth-Token"] = token
    request = urllib.request.Request(API + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, response.headers, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raise Failed(f"{method} {path}: {e.code} {e.read()[:300]!r}", e.code) from None


def login(user, password, scope=None):
    """A token for user (by name) with password, or None when refused."""
    auth = {"identity": {"methods": ["password"], "password": {
        "user": {"name": user, "domain": DOMAIN, "password": password}}}}
    if scope:
        auth["scope"] = scope
    try:
        _, headers, _ = call("POST", "/auth/tokens", {"auth": auth})
    except Failed:
        return None
    return headers["X-Subject-Token"]


def query(**kw):
    return "?" + urllib.parse.urlencode(kw)


def main():
    admin = Session("admin", ENV["KS_ADMIN_PASSWORD"], {"system": {"all": True}})

    def find_or_create(collection, key, match, body):
        _, _, found = call("GET", f"/{collection}" + query(**match), token=admin)
        if found[collection]:
            return found[collection][0]
        _, _, made = call("POST", f"/{collection}", {key: body}, token=admin)
        return made[key]

    def project(name):
        return find_or_create("projects", "project", {"name": name, "domain_id": "default"},
                              {"name": name, "domain_id": "default", "enabled": True,
                               "description": "glance-client lab"})

    def user(name, password, home):
        u = find_or_create("users", "user", {"name": name, "domain_id": "default"},
                           {"name": name, "domain_id": "default", "password": password,
                            "default_project_id": home["id"], "enabled": True})
        if not TRUST and not login(name, password):  # it existed with another password
            call("PATCH", f"/users/{u['id']}",
                 {"user": {"password": password, "enabled": True}}, token=admin)
        return u

    _, _, listed = call("GET", "/roles", token=admin)
    role_ids = {r["name"]: r["id"] for r in listed["roles"]}

    def grant(on, who, *roles):
        for role in roles:
            call("PUT", f"/projects/{on['id']}/users/{who['id']}/roles/{role_ids[role]}",
                 token=admin)

    service = project("service")
    demo_project, alt_project = project("demo"), project("alt")
    no_image_project = project("no-image")
    demo = user("demo", ENV["KS_DEMO_PASSWORD"], demo_project)
    alt = user("alt", ENV["KS_ALT_PASSWORD"], alt_project)
    glance = user("glance", ENV["KS_GLANCE_PASSWORD"], service)
    grant(demo_project, demo, "member")  # reader is implied
    grant(alt_project, alt, "member")
    grant(no_image_project, demo, "member")
    grant(service, glance, "admin", "service")

    def point(service_id, interfaces, want):
        for interface in interfaces:
            _, _, found = call("GET", "/endpoints" + query(service_id=service_id,
                                                           interface=interface), token=admin)
            if not found["endpoints"]:
                call("POST", "/endpoints", {"endpoint": dict(
                    want, service_id=service_id, interface=interface)}, token=admin)
            elif any(found["endpoints"][0].get(k) != v for k, v in want.items()):
                call("PATCH", f"/endpoints/{found['endpoints'][0]['id']}",
                     {"endpoint": want}, token=admin)

    _, _, identity = call("GET", "/services" + query(type="identity"), token=admin)
    for svc in identity["services"]:
        point(svc["id"], ("public", "internal", "admin"),
              {"url": API, "region_id": ENV["KS_REGION"], "enabled": True})

    image = find_or_create("services", "service", {"type": "image"},
                           {"type": "image", "name": "glance", "enabled": True})
    point(image["id"], ("public", "internal"),
          {"url": ENV["KS_GLANCE_URL"], "region_id": ENV["KS_REGION"], "enabled": True})

    # Endpoint filtering: once a project has an endpoint association, its
    # tokens' catalogs list only the associated endpoints.
    filtered = f"/OS-EP-FILTER/projects/{no_image_project['id']}/endpoints"
    _, _, associated = call("GET", filtered, token=admin)
    done = {e["id"] for e in associated["endpoints"]}
    for svc in identity["services"]:
        _, _, found = call("GET", "/endpoints" + query(service_id=svc["id"]), token=admin)
        for endpoint in found["endpoints"]:
            if endpoint["id"] not in done:  # a second PUT is a 409
                call("PUT", f"{filtered}/{endpoint['id']}", token=admin)

    # The application credential belongs to demo and is made with demo's own
    # project token, so it carries demo's roles on demo. Keystone keeps only
    # the secret's hash: a changed secret means a new credential.
    creds = f"/users/{demo['id']}/application_credentials"
    _, _, found = call("GET", creds + query(name=APP_CRED), token=admin)
    cred = found["application_credentials"][0] if found["application_credentials"] else None
    if cred and not TRUST:
        auth = {"identity": {"methods": ["application_credential"], "application_credential": {
            "id": cred["id"], "secret": ENV["KS_APP_CRED_SECRET"]}}}
        try:
            call("POST", "/auth/tokens", {"auth": auth})
        except Failed:
            call("DELETE", f"{creds}/{cred['id']}", token=admin)
            cred = None
    if not cred:
        demo_token = login("demo", ENV["KS_DEMO_PASSWORD"],
                           {"project": {"id": demo_project["id"]}})
        if not demo_token:
            raise Failed("demo cannot log in")
        _, _, made = call("POST", creds, {"application_credential": {
            "name": APP_CRED, "secret": ENV["KS_APP_CRED_SECRET"],
            "description": "glance-client lab"}}, token=demo_token)
        cred = made["application_credential"]

    for key, value in [
        ("KEYSTONE_DEMO_PROJECT_ID", demo_project["id"]),
        ("KEYSTONE_DEMO_USER_ID", demo["id"]),
        ("KEYSTONE_ALT_PROJECT_ID", alt_project["id"]),
        ("KEYSTONE_ALT_USER_ID", alt["id"]),
        ("KEYSTONE_NO_IMAGE_PROJECT_ID", no_image_project["id"]),
        ("KEYSTONE_NO_IMAGE_PROJECT_NAME", "no-image"),
        ("KEYSTONE_SERVICE_PROJECT_ID", service["id"]),
        ("KEYSTONE_GLANCE_USER_ID", glance["id"]),
        ("KEYSTONE_APP_CRED_ID", cred["id"]),
        ("KEYSTONE_APP_CRED_NAME", APP_CRED),
    ]:
        print(f"{key}={value}")


if __name__ == "__main__":
    try:
        main()
    except Failed as e:
        sys.exit(f"keystone_lab_provision: {e}")
