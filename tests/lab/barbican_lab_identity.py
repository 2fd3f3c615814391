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
"""

import webob

IMPLIED = {"admin": ["member", "reader"], "member": ["reader"]}


def expand_roles(header):
    roles = [r.strip().lower() for r in (header or "admin").split(",") if r.strip()]
    for role in list(roles):
        roles += [r for r in IMPLIED.get(role, []) if r not in roles]
    return ",".join(roles)


def filter_factory(global_conf, **local_conf):
    def make(app):
        def middleware(environ, start_response):
            webob.Request(environ).request_id = environ.get("openstack.request_id")
            environ["HTTP_X_ROLES"] = expand_roles(environ.get("HTTP_X_ROLES"))
            return app(environ, start_response)

        return middleware

    return make
