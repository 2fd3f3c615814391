"""Paste filter that stands in for keystonemiddleware's auth_token in the lab.

Glance's stock ``context`` middleware builds the request context from the
identity headers auth_token would set (X-Identity-Status, X-Project-Id,
X-User-Id, X-Roles). Without a Keystone nobody sets them, so this filter does,
for every request that has no X-Identity-Status of its own:

* No X-Project-Id (nor its old name X-Tenant-Id): the lab's default identity,
  project GLANCE_LAB_PROJECT, user GLANCE_LAB_USER, roles GLANCE_LAB_ROLES
  (defaults: lab-project, lab-user, admin,member,reader). Plain clients just work.
* X-Project-Id (or X-Tenant-Id) sent: the request acts as that project. The
  user id defaults to ``<project>-user`` and the roles to ``member,reader``,
  never ``admin`` (an admin context sees every image, which would hide the
  visibility rules a second project is there to test).

Roles are expanded as Keystone's bootstrap implies them (admin -> member ->
reader, manager -> member): Glance's default policies ask for ``reader`` to
show an image or a membership, and a token for a ``member`` carries ``reader``
too. Without this, ``X-Roles: member`` alone gets 404 for another project's
shared image (policy failures on reads are reported as "not found").

The filter trusts its caller: it is for a lab bound to 127.0.0.1, never for a
real deployment.
"""

import os

DEFAULT_PROJECT = os.environ.get('GLANCE_LAB_PROJECT', 'lab-project')
DEFAULT_USER = os.environ.get('GLANCE_LAB_USER', 'lab-user')
DEFAULT_ROLES = os.environ.get('GLANCE_LAB_ROLES', 'admin,member,reader')
OTHER_PROJECT_ROLES = 'member,reader'

# keystone-manage bootstrap's implied roles.
IMPLIES = {'admin': ['member'], 'manager': ['member'], 'member': ['reader']}


def expand_roles(roles):
    """``"admin"`` -> ``"admin,member,reader"``: add implied roles, keep order."""
    out = []
    todo = [r.strip().lower() for r in roles.split(',') if r.strip()]
    while todo:
        role = todo.pop(0)
        if role not in out:
            out.append(role)
            todo.extend(IMPLIES.get(role, []))
    return ','.join(out)


def fill_identity(environ):
    """Add the identity headers a request lacks (WSGI environ, in place)."""
    if 'HTTP_X_IDENTITY_STATUS' in environ:
        return
    environ['HTTP_X_IDENTITY_STATUS'] = 'Confirmed'
    project = environ.get('HTTP_X_PROJECT_ID') or environ.get('HTTP_X_TENANT_ID')
    if project:
        user, roles = project + '-user', OTHER_PROJECT_ROLES
    else:
        project, user, roles = DEFAULT_PROJECT, DEFAULT_USER, DEFAULT_ROLES
    environ['HTTP_X_PROJECT_ID'] = project
    environ.setdefault('HTTP_X_USER_ID', user)
    environ['HTTP_X_ROLES'] = expand_roles(environ.get('HTTP_X_ROLES') or roles)


def filter_factory(global_conf, **local_conf):
    """The paste.deploy entry point (``paste.filter_factory``)."""
    def _filter(app):
        def middleware(environ, start_response):
            fill_identity(environ)
            return app(environ, start_response)
        return middleware
    return _filter
