"""The WSGI entry for production servers: ``gunicorn -w 4 -b 0.0.0.0:8080 web.wsgi:app``.

Settings come from the environment (``LOAXA_INSTANCE``, ``LOAXA_DATABASE_URL``…) as for
``loaxa serve``; each worker builds its own app, engine and connection pool, and runs the
shared job queue (renders, TTS, long uploads) beside its requests: a job one worker queued
is claimed by whichever is free, and the jobs of a worker that died by another once their
lease runs out (``scheduler.workqueue``).
"""

import os

from web import create_app

app = create_app()
_jobs = app.extensions["loaxa"]["jobs"]
_jobs.start()
# Under ``gunicorn --preload`` this module is imported once in the master and the workers
# are forked from it with no threads: each starts its own runner after the fork.
os.register_at_fork(after_in_child=_jobs.runner.forked)
