from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "profiles"
    verbose_name = "Profiles (author records, claims, trust)"

    def ready(self) -> None:
        from profiles import receivers  # noqa: F401  (connects the receivers; needs the app registry)
