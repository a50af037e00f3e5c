"""WSGI entry point: gunicorn "wsgi:app"."""

from votes import create_app

app = create_app()
