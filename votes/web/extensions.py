"""The Flask extensions, made once and bound to the application by init_web."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel(configure_jinja=False)  # the words come from votes.i18n
limiter = Limiter(key_func=get_remote_address)
