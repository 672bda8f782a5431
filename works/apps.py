from django.apps import AppConfig


class WorksConfig(AppConfig):
    name = "works"
    verbose_name = "Works (arXiv records)"

    def ready(self) -> None:
        # Importing connects the receivers (which needs the app registry).
        from works import catalogue_pages  # noqa: F401
