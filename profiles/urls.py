from django.urls import path

from profiles.views import accounts as account_views
from profiles.views import claims as claim_views
from profiles.views import collaboration as collaboration_views
from profiles.views import follows as follow_views
from profiles.views import history as history_views
from profiles.views import namesakes, pages, search, trust

app_name = "profiles"

urlpatterns = [
    path("", pages.home, name="home"),
    path("researchers/<slug:slug>/", pages.researcher_detail, name="detail"),
    path("researchers/<slug:slug>/namesakes/", namesakes.namesakes_page, name="namesakes"),
    path("search/", search.search, name="search"),
]

# Trust ("Why this score?" and the score-history chart).
urlpatterns += [
    path("researchers/<slug:slug>/trust/", trust.why, name="trust"),
    path("researchers/<slug:slug>/trust/history.svg", trust.history_svg, name="trust-history"),
]

# Accounts, claims, follows, direct collaboration, history and corrections.
urlpatterns += [
    path("researchers/<slug:slug>/follow/", follow_views.follow, name="follow"),
    path("researchers/<slug:slug>/unfollow/", follow_views.unfollow, name="unfollow"),
    path("following/", follow_views.following, name="following"),
    path("researchers/<slug:slug>/claim/", claim_views.claim_record, name="claim"),
    path("claims/<uuid:claim_id>/withdraw/", claim_views.withdraw_claim, name="claim-withdraw"),
    path("researchers/<slug:slug>/edit/", claim_views.edit_record, name="edit"),
    path(
        "researchers/<slug:slug>/works/<int:work_id>/not-mine/",
        claim_views.not_mine,
        name="not-mine",
    ),
    path(
        "researchers/<slug:slug>/orcid-offers/<int:offer_id>/accept/",
        claim_views.accept_orcid_offer,
        name="orcid-offer-accept",
    ),
    path(
        "researchers/<slug:slug>/orcid-offers/<int:offer_id>/decline/",
        claim_views.decline_orcid_offer,
        name="orcid-offer-decline",
    ),
    path("researchers/<slug:slug>/history/", history_views.record_history, name="history"),
    path("researchers/<slug:slug>/invite/", collaboration_views.invite, name="invite"),
    path("inbox/", collaboration_views.inbox, name="inbox"),
    path(
        "invitations/<uuid:invitation_id>/",
        collaboration_views.invitation_detail,
        name="invitation",
    ),
    path(
        "invitations/<uuid:invitation_id>/accept/",
        collaboration_views.accept_invitation,
        name="invitation-accept",
    ),
    path(
        "invitations/<uuid:invitation_id>/decline/",
        collaboration_views.decline_invitation,
        name="invitation-decline",
    ),
    path(
        "invitations/<uuid:invitation_id>/block/",
        collaboration_views.block_sender,
        name="invitation-block",
    ),
    path("blocks/<int:block_id>/remove/", collaboration_views.unblock, name="unblock"),
    path(
        "conversations/<uuid:conversation_id>/",
        collaboration_views.conversation,
        name="conversation",
    ),
    path("accounts/settings/", account_views.account_settings, name="settings"),
    path(
        "accounts/settings/orcid/",
        account_views.orcid_refresh_setting,
        name="settings-orcid",
    ),
    path("accounts/delete/", account_views.delete_my_account, name="delete-account"),
]
