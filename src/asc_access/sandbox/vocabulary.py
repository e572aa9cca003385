"""Apple's vocabulary, as the sandbox needs it (spec 4.4.1).

Constant tables only: roles, which roles can have their app access limited,
and the attribute / relationship names of the resource types we serve.
"""

from __future__ import annotations

__all__ = [
    "ALWAYS_ALL_APPS_ROLES",
    "APPLE_API_AUDIENCE",
    "APP_ATTRIBUTES",
    "APP_FIELDS",
    "APP_RELATIONSHIPS",
    "INVITATION_FIELDS",
    "KEY_ROLES",
    "MANAGE_USERS_ROLES",
    "ROLES",
    "USER_FIELDS",
    "can_restrict_apps",
]

APPLE_API_AUDIENCE = "appstoreconnect-v1"

#: UserRole in spec 4.4.1 (13 values).
ROLES: tuple[str, ...] = (
    "ADMIN",
    "FINANCE",
    "ACCOUNT_HOLDER",
    "SALES",
    "MARKETING",
    "APP_MANAGER",
    "DEVELOPER",
    "ACCESS_TO_REPORTS",
    "CUSTOMER_SUPPORT",
    "CREATE_APPS",
    "CLOUD_MANAGED_DEVELOPER_ID",
    "CLOUD_MANAGED_APP_DISTRIBUTION",
    "GENERATE_INDIVIDUAL_KEYS",
)

#: Holding any of these means the person always sees every app (Apple's help pages).
ALWAYS_ALL_APPS_ROLES: frozenset[str] = frozenset(
    {"ACCOUNT_HOLDER", "ADMIN", "FINANCE", "ACCESS_TO_REPORTS"}
)

#: Roles that may read and manage users and invitations through the API.
MANAGE_USERS_ROLES: frozenset[str] = frozenset({"ACCOUNT_HOLDER", "ADMIN"})

#: Roles a team key can be generated with (App Store Connect's key dialog).
KEY_ROLES: frozenset[str] = frozenset(
    {
        "ADMIN",
        "APP_MANAGER",
        "DEVELOPER",
        "FINANCE",
        "SALES",
        "MARKETING",
        "CUSTOMER_SUPPORT",
        "ACCESS_TO_REPORTS",
    }
)

USER_FIELDS: tuple[str, ...] = (
    "username",
    "firstName",
    "lastName",
    "roles",
    "allAppsVisible",
    "provisioningAllowed",
    "visibleApps",
)

INVITATION_FIELDS: tuple[str, ...] = (
    "email",
    "firstName",
    "lastName",
    "expirationDate",
    "roles",
    "allAppsVisible",
    "provisioningAllowed",
    "visibleApps",
)

APP_ATTRIBUTES: tuple[str, ...] = (
    "accessibilityUrl",
    "name",
    "bundleId",
    "sku",
    "primaryLocale",
    "isOrEverWasMadeForKids",
    "subscriptionStatusUrl",
    "subscriptionStatusUrlVersion",
    "subscriptionStatusUrlForSandbox",
    "subscriptionStatusUrlVersionForSandbox",
    "contentRightsDeclaration",
    "streamlinedPurchasingEnabled",
)

APP_RELATIONSHIPS: tuple[str, ...] = (
    "accessibilityDeclarations",
    "appEncryptionDeclarations",
    "appStoreIcon",
    "ciProduct",
    "betaTesters",
    "betaGroups",
    "appStoreVersions",
    "appTags",
    "preReleaseVersions",
    "betaAppLocalizations",
    "builds",
    "betaLicenseAgreement",
    "betaAppReviewDetail",
    "appInfos",
    "appClips",
    "appPricePoints",
    "endUserLicenseAgreement",
    "appPriceSchedule",
    "appAvailabilityV2",
    "inAppPurchases",
    "subscriptionGroups",
    "gameCenterEnabledVersions",
    "perfPowerMetrics",
    "appCustomProductPages",
    "inAppPurchasesV2",
    "promotedPurchases",
    "appEvents",
    "reviewSubmissions",
    "subscriptionGracePeriod",
    "customerReviews",
    "customerReviewSummarizations",
    "gameCenterDetail",
    "appStoreVersionExperimentsV2",
    "alternativeDistributionKey",
    "analyticsReportRequests",
    "marketplaceSearchDetail",
    "buildUploads",
    "backgroundAssets",
    "betaFeedbackScreenshotSubmissions",
    "betaFeedbackCrashSubmissions",
    "searchKeywords",
    "webhooks",
    "androidToIosAppMappingDetails",
)

APP_FIELDS: tuple[str, ...] = APP_ATTRIBUTES + APP_RELATIONSHIPS


def can_restrict_apps(roles: list[str] | tuple[str, ...] | frozenset[str]) -> bool:
    """Whether Apple lets app access be limited for someone holding ``roles``."""
    return not (set(roles) & ALWAYS_ALL_APPS_ROLES)
