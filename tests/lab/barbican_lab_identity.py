"""Paste filter that lets Barbican's unauthenticated pipeline serve the lab.

It stands right before Barbican's own UnauthenticatedContextMiddleware (which
takes the project from X-Project-Id and the roles from X-Roles) and fixes two
things that keep that pipeline from working with Barbican 23:

- The middleware builds its context with ``req.request_id``, an attribute
  nothing in the pipeline sets: webob raises AttributeError and every request
  under /v1 answers 500. This filter sets it to the id oslo.middleware's
  request_id filter put in the environ; webob keeps ad-hoc request attributes
  in the WSGI environ (``webob.adhoc_attrs``), so Barbican's Request sees it.
- Without X-Roles the middleware acts with role admin alone, and Barbican's
  default policies (secure RBAC) ask for member: every call answers 403.
  Keystone would imply member and reader from admin; this filter expands
  X-Roles the same way (admin > member > reader), admin when there is none.

And it lets the lab stand in for a Keystone-protected Barbican to a client
that sends what such a client sends, a token and no project: a request with
X-Auth-Token (any value) and no X-Project-Id acts as the lab's project
(``default_project`` in the paste file), as keystonemiddleware would set it
from the token; one with neither is answered 401, as keystonemiddleware
answers a request without a token.
"""

import webob

IMPLIED = {"admin": ["member", "reader"], "member": ["reader"]}


def expand_roles(header):
    roles = [r.strip().lower() for r in (header or "admin").split(",") if r.strip()]
    for role in list(roles):
        roles += [r for r in IMPLIED.get(role, []) if r not in roles]
    return ",".join(roles)


UNAUTHORIZED = b'{"code": 401, "title": "Unauthorized", "description": "no token"}'


def filter_factory(global_conf, **local_conf):
    default_project = local_conf.get("default_project")

    def make(app):
        def middleware(environ, start_response):
            webob.Request(environ).request_id = environ.get("openstack.request_id")
            environ["HTTP_X_ROLES"] = expand_roles(environ.get("HTTP_X_ROLES"))
            if default_project and not environ.get("HTTP_X_PROJECT_ID"):
                if not environ.get("HTTP_X_AUTH_TOKEN"):
                    start_response("401 Unauthorized", [
                        ("Content-Type", "application/json"),
                        ("Content-Length", str(len(UNAUTHORIZED)))])
                    return [UNAUTHORIZED]
                environ["HTTP_X_PROJECT_ID"] = default_project
            return app(environ, start_response)

        return middleware

    return make
