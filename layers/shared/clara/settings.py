"""One settings model for every function, read from the environment on first use (never at import)."""

import os
from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from clara.formats import Money

SERVICE_NAME = "clara-backend"
API_PREFIX = "/api/v1"


class Settings(BaseModel):
    """Each field comes from the environment variable of the same name in upper case (TABLE_NAME, ...).

    Secrets (the JWT key, the API keys) are not here: clara.secrets reads them, from the environment locally and
    from Secrets Manager in the stack.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = "development"
    # Empty means "report the project's own version" (clara.__version__).
    version: str = ""
    table_name: str = "ClaraTable"
    analysis_queue_url: str = ""
    webhook_queue_url: str = ""  # the webhook delivery queue (clara.domain.webhooks)
    attachments_bucket: str = ""

    # Accounts and authentication
    user_token_prefix: str = "calzo_user_"  # noqa: S105 (a prefix, not a secret)
    api_key_token_prefix: str = "clara_api_"  # noqa: S105
    session_expiry_in_days: int = Field(default=7, ge=1, le=365)
    bcrypt_rounds: int = Field(default=12, ge=4, le=16)
    otp_expiry_in_minutes: int = Field(default=10, ge=1, le=60)
    otp_resend_seconds: int = Field(default=30, ge=0)
    otp_max_attempts: int = Field(default=5, ge=1)
    # Login lockout (clara.domain.accounts.lockout): per (account, client address) in a window, and per account per
    # hour.
    login_max_failures_per_address: int = Field(default=5, ge=1)
    # Emails carrying a code to one recipient in one clock hour, all code types together
    # (clara.domain.accounts.mail_cap).
    otp_max_emails_per_hour: int = Field(default=5, ge=1)
    login_lockout_minutes: int = Field(default=15, ge=1)
    login_max_failures_per_account_per_hour: int = Field(default=100, ge=1)
    # Second-factor codes (clara.domain.accounts.totp): OTP_MAX_ATTEMPTS tries per (account, client address) in each
    # OTP_EXPIRY_IN_MINUTES window, and these ceilings per account per clock hour, app and recovery codes apart.
    second_factor_max_tries_per_account_per_hour: int = Field(default=30, ge=1)
    recovery_code_max_tries_per_account_per_hour: int = Field(default=10, ge=1)
    rate_limit_per_second: int = Field(default=10, ge=1)
    signup_credits: Money = Field(default=Decimal(0), ge=0)
    google_client_id: str = ""
    # Google's signing keys as a JWK Set (clara.integrations.google_identity); tests point it at a local server.
    google_jwks_url: str = "https://www.googleapis.com/oauth2/v3/certs"

    # Billing (Stripe). Bands as JSON: [{"lower_limit": 5, "upper_limit": 10000, "rate": 100}] (fiat limits,
    # credits per dollar); STRIPE_API_BASE points the stripe library at the local stand-in (development only).
    stripe_rates: str = '[{"lower_limit": 5, "upper_limit": 10000, "rate": 100}]'
    stripe_api_base: str = ""
    stripe_return_url: str = ""

    # Every AWS client but Bedrock's (clara.aws): connect and read timeouts, attempts in botocore's standard retry
    # mode (the first included). A stuck dependency then costs about 3 x (1 + 3) s, within an API function's 15 s.
    aws_connect_timeout_seconds: float = Field(default=1, gt=0, le=10)
    aws_read_timeout_seconds: float = Field(default=3, gt=0, le=60)
    aws_max_attempts: int = Field(default=3, ge=1, le=10)

    # Analysis. Caps keep one request under what API Gateway hands a Lambda function (a 6 MB event with the body
    # base64-encoded: about 4.5 MB of upload in all).
    analysis_cost_credits: float = Field(default=20, ge=0)
    analyzer: Literal["local", "bedrock"] = "local"
    # A model that offers Nova Web Grounding (US regions only): Nova 2 Lite, or us.amazon.nova-premier-v1:0.
    bedrock_model_id: str = "us.amazon.nova-2-lite-v1:0"
    # Evidence from the web through Bedrock (the nova_grounding system tool); off: only links in the content.
    web_grounding: bool = True
    analysis_max_receives: int = Field(default=5, ge=1)  # the queue's maxReceiveCount: the last try fails the task
    # The analysis agent's bounds. Every Bedrock call takes at most bedrock_read_timeout_seconds (+5 s to
    # connect), and one starts only while the verdict call still fits in the budget after it, so a task's
    # analysis ends within analysis_time_budget_seconds: 300 s of the worker's 360 s timeout, the rest for S3
    # and DynamoDB. Grounded calls for different claims run side by side, grounding_concurrency at a time.
    analysis_max_claims: int = Field(default=5, ge=1, le=20)
    grounding_max_calls: int = Field(default=5, ge=0, le=20)
    grounding_concurrency: int = Field(default=3, ge=1, le=10)
    analysis_time_budget_seconds: float = Field(default=300, gt=0, le=330)
    bedrock_read_timeout_seconds: int = Field(default=90, ge=1, le=300)
    # A transient failure hides its message for base * 2^(receive - 1) seconds, at most the cap (SQS allows
    # 12 hours), instead of the queue's whole visibility timeout.
    analysis_retry_base_seconds: int = Field(default=30, ge=0, le=43_200)
    analysis_retry_max_seconds: int = Field(default=900, ge=0, le=43_200)
    # The sweeper queues a PENDING task again once it is this old (its message may have been lost to a crash).
    analysis_requeue_after_seconds: int = Field(default=120, ge=0)

    # Links in the analysed content, read by the safe fetcher (clara.integrations.fetcher). The caps can only be
    # lowered.
    fetch_max_urls: int = Field(default=3, ge=0, le=3)
    fetch_max_bytes: int = Field(default=2_000_000, ge=1, le=2_000_000)
    fetch_timeout_seconds: float = Field(default=10, gt=0, le=10)
    fetch_max_redirects: int = Field(default=3, ge=0, le=3)
    # Tests only: lets the fetcher reach 127.0.0.0/8 and ::1 (every other non-public range stays refused).
    fetch_allow_loopback: bool = False
    max_attachments: int = Field(default=5, ge=0, le=5)
    max_text_characters: int = Field(default=20_000, ge=1)
    supported_image_extensions: str = ".jpeg,.jpg,.png,.gif,.webp"
    supported_video_extensions: str = ".mp4,.mov,.mkv,.webm,.mpeg"
    supported_audio_extensions: str = ".mp3,.wav,.m4a,.ogg,.flac"
    supported_pdf_extensions: str = ".pdf"
    max_image_attachment_size: int = Field(default=3_750_000, ge=1, le=4_500_000)
    max_video_attachment_size: int = Field(default=4_500_000, ge=1, le=4_500_000)
    max_audio_attachment_size: int = Field(default=4_500_000, ge=1, le=4_500_000)
    max_pdf_attachment_size: int = Field(default=4_500_000, ge=1, le=4_500_000)

    # The OpenAPI document and Swagger UI at /openapi.json and /docs: on locally, off in a stack unless enabled.
    api_docs: Literal["enabled", "disabled"] = "disabled"

    # Origins allowed to call the API from a browser: comma-separated, or "*"; empty turns CORS off.
    cors_allow_origin: str = ""

    # Email
    mail_sender: str = "Clara <no-reply@clara.local>"
    client_url: str = "http://localhost:3000"

    @model_validator(mode="after")
    def _production_fetches_public_addresses_only(self) -> Self:
        if self.environment == "production" and self.fetch_allow_loopback:
            raise ValueError("FETCH_ALLOW_LOOPBACK is for tests: production fetches public addresses only")
        return self

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Self:
        # Plain pydantic rather than pydantic-settings: the same validation, without its ~47 ms of cold start.
        return cls.model_validate({name: environ[name.upper()] for name in cls.model_fields if name.upper() in environ})


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call get_settings.cache_clear() after changing the environment."""
    return Settings.from_environment()
