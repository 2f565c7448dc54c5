"""The WSGI entry for production servers: ``gunicorn -w 4 -b 0.0.0.0:8080 web.wsgi:app``.

Settings come from the environment (``LOAXA_INSTANCE``, ``LOAXA_DATABASE_URL``…) as for
``loaxa serve``; each worker builds its own app, engine and connection pool.
"""

from web import create_app

app = create_app()
