"""BZPEER settings: one module, everything from the environment.

With nothing set the app runs on its embedded default: a SQLite file in the
project folder, Celery tasks executed eagerly in-process and a local-memory
cache. ``DATABASE_URL`` switches to PostgreSQL, ``REDIS_URL`` to a real broker
and cache. ``.env.example`` lists every variable.
"""

from pathlib import Path
from urllib.parse import unquote, urlparse

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from bzpeer.lib.env import (
    env_bool,
    env_float,
    env_int,
    env_list,
    env_str,
    local_secret_key,
    weak_secret_key,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY and not env_str("DATABASE_URL"):
    # The embedded default (SQLite, nothing configured) is one machine's own site: a key of
    # its own, made once and kept outside the repository, lets commands run with nothing set.
    SECRET_KEY = local_secret_key(BASE_DIR / "var" / "secret_key")
if not DEBUG and (problem := weak_secret_key(SECRET_KEY)):
    # Anyone who knows the key can forge sessions, password-reset links and signed values.
    raise ImproperlyConfigured(
        f"DJANGO_SECRET_KEY {problem} when DJANGO_DEBUG is off. Generate one with "
        "`python -c 'import secrets; print(secrets.token_urlsafe(50))'` "
        "(make run sets DJANGO_DEBUG=1 for local use)."
    )
if not SECRET_KEY:
    SECRET_KEY = "insecure-local-development-key-not-for-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "django_htmx",
    "template_partials",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.orcid",
    "csp",
    "works",
    "profiles",
    "graph",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "bzpeer.lib.csp.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A database that is down: the 503 page rather than a 500 (bzpeer/lib/unavailable.py).
    "bzpeer.lib.unavailable.DatabaseUnavailableMiddleware",
    # CORS, the rate limit and problem documents for /api/, before anything reads a session.
    "bzpeer.lib.api.ApiMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "bzpeer.urls"
WSGI_APPLICATION = "bzpeer.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "profiles.context_processors.orcid",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
            "OPTIONS": {"timeout": 20},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: broker and cache ---------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            # Redis' own cache backend, answering "miss" while Redis is unreachable
            # so pages keep serving (bzpeer/lib/cache.py).
            "BACKEND": "bzpeer.lib.cache.ForgivingRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "bzpeer",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Every process (web and Celery workers) sees one cache: pages may be served from it without
# asking the database, since any process that changes a record can reach the stored copies
# (profiles/page_cache.py). A local-memory cache is one per process.
PAGE_CACHE_SHARED = env_bool("PAGE_CACHE_SHARED", default=bool(REDIS_URL))

# Queued tasks live in Redis only: it must persist them (docker-compose.yml runs it with
# --appendonly yes), or a restart drops every task it had accepted (tests/test_redis_restart.py).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL) or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not bool(REDIS_URL or env_str("CELERY_BROKER_URL"))
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_SOFT_TIME_LIMIT = 600
CELERY_TASK_TIME_LIMIT = 900
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A broker that does not answer must not hang a web request: fail fast and let
# the caller fall back (see bzpeer.lib.tasks.enqueue).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    # A broker that accepts the connection but never answers would otherwise
    # hang a publish forever (kombu's default socket timeout is None).
    "socket_connect_timeout": 2,
    "socket_timeout": 3,
    # Unacknowledged acks_late messages return to the queue after this long; it
    # must outlast the longest task (works.run_import: 2 h) or a running import
    # would be handed to a second worker (which would find it claimed and stop).
    "visibility_timeout": 3 * 3600,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# One immediate retry of a publish (a dropped pooled connection), then give up:
# callers go through bzpeer.lib.tasks.enqueue, which logs and carries on.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TIMEZONE = "UTC"

# --- arXiv ----------------------------------------------------------------
ARXIV_API_URL = env_str("ARXIV_API_URL", "https://export.arxiv.org/api/query")
ARXIV_OAI_URL = env_str("ARXIV_OAI_URL", "https://oaipmh.arxiv.org/oai")
# arXiv's Terms of Use: one request every 3 seconds across every machine we run.
ARXIV_REQUEST_INTERVAL = env_float("ARXIV_REQUEST_INTERVAL", 3.0)
ARXIV_USER_AGENT = env_str(
    "ARXIV_USER_AGENT", "BZPEER/0.1 (researcher profiles; metadata harvester)"
)

# --- Accounts (django-allauth) -------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
# Django's four rules, which allauth applies at sign-up, password change and reset.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
# Mandatory verification is what lets a sign-up never tell whether an address is registered
# (allauth's enumeration prevention, on by default): signing up with a known address shows the
# same "verify your email" page as with a new one, and mails the existing owner instead. An
# account logs in once its address is verified; following the link logs it in.
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_UNIQUE_EMAIL = True
# Repeated failed logins lock the account key out for a while; sign-ups and
# password resets are limited per address (allauth's own rate limits).
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/h/ip",
    "reset_password": "20/m/ip,5/m/key",
    "confirm_email": "1/3m/key",
}

# The client's address, which rate limits and lockouts count by (bzpeer.lib.ratelimit and, through
# ACCOUNT_ADAPTER, allauth). Behind reverse proxies every request comes from the nearest proxy,
# so all visitors would share one count: set how many proxies of ours append to
# X-Forwarded-For (1 for the TLS proxy in front of docker-compose's web), and the address the
# outermost one saw is used. 0, the default, trusts no header: a client can write anything there.
TRUSTED_PROXY_COUNT = env_int("DJANGO_TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("DJANGO_TRUSTED_PROXY_COUNT must be 0 or more")
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
ACCOUNT_ADAPTER = "bzpeer.lib.accounts.AccountAdapter"
# --- Read API ---------------------------------------------------------------
# Requests per address to /api/ ("count/period", bzpeer.lib.ratelimit.Rate): past it, 429.
API_RATE_LIMIT = env_str("API_RATE_LIMIT", "300/m")

# --- ORCID: sign in, connect, and read public works (issue 14) ----------------
# Without a client id and secret there is no ORCID button and /accounts/orcid/ answers 404;
# everything else works. ORCID_BASE_URL is where people sign in (https://sandbox.orcid.org
# for the sandbox, a fake in tests); the public API defaults to its "pub." host.
ORCID_CLIENT_ID = env_str("ORCID_CLIENT_ID")
ORCID_CLIENT_SECRET = env_str("ORCID_CLIENT_SECRET")
ORCID_BASE_URL = env_str("ORCID_BASE_URL", "https://orcid.org").rstrip("/")
_orcid_base = urlparse(ORCID_BASE_URL)
if _orcid_base.scheme not in {"http", "https"} or not _orcid_base.netloc:
    raise ImproperlyConfigured(f"ORCID_BASE_URL must be an http(s) address, got {ORCID_BASE_URL!r}")
ORCID_API_URL = (
    env_str("ORCID_API_URL")
    or (
        f"https://pub.{_orcid_base.hostname}/v3.0"
        if _orcid_base.hostname in {"orcid.org", "sandbox.orcid.org"}
        else f"{ORCID_BASE_URL}/v3.0"
    )
).rstrip("/")
# Seconds between two requests to ORCID's public API across every worker: ORCID allows 24 a
# second per address; a tenth of that leaves room for everyone else behind our address.
ORCID_REQUEST_INTERVAL = env_float("ORCID_REQUEST_INTERVAL", 0.1)
ORCID_USER_AGENT = env_str("ORCID_USER_AGENT", "BZPEER/0.1 (researcher profiles)")
# allauth's ORCID provider, with its addresses read from the settings above at request time
# (allauth's own builds them once, at import, for https://orcid.org-like hosts only). The app
# (client id and secret) comes from the same settings through the social account adapter, never
# from the database.
SOCIALACCOUNT_ADAPTER = "profiles.orcid.signin.SocialAccountAdapter"
SOCIALACCOUNT_PROVIDERS = {"orcid": {"provider_class": "profiles.orcid.provider.OrcidProvider"}}
# The access token is never used again (public data needs none): not stored.
SOCIALACCOUNT_STORE_TOKENS = False
# ORCID rarely shares an email: a new account made by signing in with ORCID is asked for one
# (ACCOUNT_SIGNUP_FIELDS requires it) and verifies it like any other before it can claim.

# --- Email ------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "BZPEER <no-reply@bzpeer.localhost>")
# Links in emails sent by background tasks (digests, notices), which have no request to
# build an absolute address from.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
EMAIL_URL = env_str("EMAIL_URL")
if EMAIL_URL:
    _email = urlparse(EMAIL_URL)
    if _email.scheme not in {"smtp", "smtps", "submission"}:
        raise ImproperlyConfigured(
            f"EMAIL_URL must be smtp://, smtps:// or submission://, got {_email.scheme!r}"
        )
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _email.hostname or "localhost"
    EMAIL_PORT = _email.port or {"smtp": 25, "smtps": 465, "submission": 587}[_email.scheme]
    EMAIL_HOST_USER = unquote(_email.username or "")
    EMAIL_HOST_PASSWORD = unquote(_email.password or "")
    EMAIL_USE_SSL = _email.scheme == "smtps"
    EMAIL_USE_TLS = _email.scheme == "submission"
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# --- Static files, i18n -------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Security -----------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Served over HTTPS, behind a TLS proxy, unless DEBUG is on or DJANGO_SECURE_SSL=0 says this is a
# plain-HTTP test: cookies only over HTTPS, HSTS, and plain HTTP redirected. The proxy tells a
# request came over HTTPS with X-Forwarded-Proto, which it must set itself (README, Deployment).
SECURE_SSL = env_bool("DJANGO_SECURE_SSL", default=not DEBUG)
if SECURE_SSL:
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", default=False)
    if not SECURE_HSTS_PRELOAD:
        # Asking browsers to preload the domain is hard to take back (months to leave their
        # lists) and lets anyone submit it: the operator's choice, not a default. check
        # --deploy's reminder (W021) is silenced with it.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Content-Security-Policy (django-csp): scripts, styles and everything else only from our own
# origin, never inline, so markup that slipped into a page runs nothing. Templates carry no
# inline script, event handler or style (static/js/, static/css/; htmx is told not to inject
# its indicator styles); the admin's own templates need none either. No plugin, no framing,
# forms post only here. tests/browser/test_csp_browser.py walks the pages under it.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        # Signing in with ORCID posts to our own /accounts/orcid/login/, which redirects to
        # ORCID: browsers apply form-action to that redirect too.
        "form-action": [SELF, *([ORCID_BASE_URL] if ORCID_CLIENT_ID else [])],
        "frame-ancestors": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
