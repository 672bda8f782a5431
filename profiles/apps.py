from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "profiles"
    verbose_name = "Profiles (author records, claims, trust)"

    def ready(self) -> None:
        # Importing connects the receivers (which needs the app registry).
        from profiles import page_cache, receivers  # noqa: F401
