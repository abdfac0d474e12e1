from django.conf import settings


def portal(request):
    return {
        "PORTAL_NAME": settings.PORTAL_NAME,
        "alliance": getattr(request, "alliance", None),
        "membership": getattr(request, "membership", None),
    }
