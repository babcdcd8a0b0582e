namespace Mailroom.Core;

/// <summary>
/// Postmark's API error codes (the <c>ErrorCode</c> of every error body and batch item; /work/shared/spec/postmark-api.md
/// §1.7) by name, from the API layer to
/// the services that throw them. Clients branch on these numbers, so they are part of the wire format: never renumber one.
/// </summary>
public static class PostmarkErrors
{
    /// <summary>Success: batch items, action responses.</summary>
    public const int None = 0;
    /// <summary>Mailroom's own, web app only: a form's input refused (shown on the page, never on the API).</summary>
    public const int WebFormRefused = 1;
    /// <summary>Token missing, invalid, or of the wrong kind (HTTP 401).</summary>
    public const int InvalidToken = 10;
    /// <summary>Unexpected error, answered with an error id (HTTP 500).</summary>
    public const int UnexpectedError = 101;
    /// <summary>Email request invalid: addresses, recipients, body, field, metadata or header limits.</summary>
    public const int InvalidEmailRequest = 300;
    /// <summary>The From address is not a sender signature or on a verified domain.</summary>
    public const int SenderSignatureNotFound = 400;
    /// <summary>The From address's sender signature is not confirmed yet.</summary>
    public const int SenderSignatureNotConfirmed = 401;
    /// <summary>The body is not valid JSON.</summary>
    public const int InvalidJson = 402;
    /// <summary>A field of the request has the wrong type or shape.</summary>
    public const int InvalidRequestFields = 403;
    /// <summary>Every recipient is inactive (suppressed) in the message's stream.</summary>
    public const int InactiveRecipient = 406;
    /// <summary>The body is not sent as JSON (HTTP 415).</summary>
    public const int JsonRequired = 409;
    /// <summary>A batch of more messages than allowed (500).</summary>
    public const int TooManyBatchMessages = 410;
    /// <summary>An attachment of a forbidden file type.</summary>
    public const int ForbiddenAttachmentType = 411;
    /// <summary>No sender signature with that ID.</summary>
    public const int SenderSignatureIdNotFound = 501;
    /// <summary>A public (free-mail) domain cannot be a sender domain: its owner cannot publish DNS records for the user.</summary>
    public const int PublicDomainRefused = 503;
    /// <summary>A sender signature for that address already exists.</summary>
    public const int SenderSignatureExists = 504;
    /// <summary>A new DKIM key is already waiting for its DNS record.</summary>
    public const int DkimRenewalPending = 505;
    /// <summary>The sender signature is already confirmed.</summary>
    public const int SenderSignatureAlreadyConfirmed = 506;
    /// <summary>There is no DKIM key to renew (not being renewed, or a failed key cannot rotate).</summary>
    public const int DkimNotRenewable = 508;
    /// <summary>No domain with that ID on the account.</summary>
    public const int DomainNotFound = 510;
    /// <summary>The domain already exists on the account.</summary>
    public const int DomainExists = 512;
    /// <summary>The domain <c>Name</c> is required.</summary>
    public const int DomainNameRequired = 514;
    /// <summary>The domain <c>Name</c> is over 255 characters.</summary>
    public const int DomainNameTooLong = 515;
    /// <summary>The domain <c>Name</c> is not a valid domain name.</summary>
    public const int InvalidDomainName = 516;
    /// <summary>A sender signature field is missing (<c>FromEmail</c>, <c>Name</c>).</summary>
    public const int SenderSignatureFieldMissing = 520;
    /// <summary>A sender signature field is too long (<c>ConfirmationPersonalNote</c> at most 400, ...).</summary>
    public const int SenderSignatureFieldTooLong = 521;
    /// <summary>Not a valid address, domain or subdomain (sender signature and Return-Path fields).</summary>
    public const int InvalidAddressOrDomain = 522;
    /// <summary>No server with that ID (also a template push's source or destination).</summary>
    public const int ServerNotFound = 601;
    /// <summary>The inbound domain is used by another server.</summary>
    public const int InboundDomainInUse = 602;
    /// <summary>A server with that name already exists.</summary>
    public const int ServerNameExists = 603;
    /// <summary>A server's hook URL is not an absolute http or https URL.</summary>
    public const int InvalidHookUrl = 606;
    /// <summary>A server's <c>Color</c> is not one of the named colors.</summary>
    public const int InvalidServerColor = 607;
    /// <summary>A server's <c>Name</c> is missing or invalid.</summary>
    public const int InvalidServerName = 608;
    /// <summary>A server's <c>InboundDomain</c> is invalid (or its MX is wrong).</summary>
    public const int InvalidInboundDomain = 610;
    /// <summary><c>InboundSpamThreshold</c> is not 0 to 30 in steps of 5.</summary>
    public const int InvalidSpamThreshold = 611;
    /// <summary><c>TrackLinks</c> is not None, HtmlAndText, HtmlOnly or TextOnly.</summary>
    public const int InvalidTrackLinks = 612;
    /// <summary><c>DeliveryType</c> is invalid or cannot be changed.</summary>
    public const int InvalidDeliveryType = 613;
    /// <summary>A Messages API query parameter is invalid.</summary>
    public const int InvalidMessagesQuery = 700;
    /// <summary>No message (outbound or inbound) with that ID.</summary>
    public const int MessageNotFound = 701;
    /// <summary>An inbound message could not be bypassed (it is not blocked).</summary>
    public const int BypassFailed = 702;
    /// <summary>An inbound message could not be retried.</summary>
    public const int RetryFailed = 703;
    /// <summary>The inbound rule request holds no <c>Rule</c>.</summary>
    public const int NoInboundRuleData = 809;
    /// <summary>The inbound rule already exists.</summary>
    public const int InboundRuleExists = 810;
    /// <summary>No inbound rule with that ID.</summary>
    public const int InboundRuleNotFound = 812;
    /// <summary>The inbound rule is neither an email address nor a domain.</summary>
    public const int InvalidInboundRule = 813;
    /// <summary>A stats date parameter is not a date.</summary>
    public const int InvalidStatsDate = 900;
    /// <summary>A bounce query parameter is invalid.</summary>
    public const int InvalidBounceQuery = 1000;
    /// <summary>No bounce with that ID.</summary>
    public const int BounceNotFound = 1001;
    /// <summary>The bounce or address cannot be activated (the recipient marked a message as spam).</summary>
    public const int BounceCannotActivate = 1003;
    /// <summary>A template list query or <c>TemplateType</c> is invalid.</summary>
    public const int InvalidTemplateQuery = 1100;
    /// <summary>The template ID, alias or layout is missing or unknown.</summary>
    public const int TemplateNotFound = 1101;
    /// <summary>The server holds the most templates allowed.</summary>
    public const int TemplateLimitReached = 1105;
    /// <summary>No template data was given.</summary>
    public const int NoTemplateData = 1109;
    /// <summary>A required template field is missing.</summary>
    public const int TemplateFieldMissing = 1120;
    /// <summary>A template field is too large.</summary>
    public const int TemplateFieldTooLarge = 1121;
    /// <summary>A template field is invalid (alias, type, content, model).</summary>
    public const int InvalidTemplateField = 1122;
    /// <summary>A template field is not allowed in this combination.</summary>
    public const int TemplateFieldNotAllowed = 1123;
    /// <summary>A template push has nothing to push.</summary>
    public const int NothingToPush = 1124;
    /// <summary>A template's type differs between the push's servers.</summary>
    public const int TemplateTypesDiffer = 1125;
    /// <summary>The layout is used by other templates.</summary>
    public const int LayoutInUse = 1130;
    /// <summary>A layout must hold <c>{{{ @content }}}</c> exactly once.</summary>
    public const int LayoutContentPlaceholder = 1131;
    /// <summary>The <c>MessageStreamType</c> is missing, invalid or changed.</summary>
    public const int InvalidMessageStreamType = 1221;
    /// <summary>The stream <c>ID</c> is missing.</summary>
    public const int MessageStreamIdMissing = 1222;
    /// <summary>The stream <c>Name</c> is missing or invalid.</summary>
    public const int MessageStreamNameMissing = 1223;
    /// <summary>The stream <c>Name</c> is over 100 characters.</summary>
    public const int MessageStreamNameTooLong = 1224;
    /// <summary>The server holds the most message streams allowed.</summary>
    public const int MessageStreamLimitReached = 1225;
    /// <summary>No message stream with that <c>ID</c> (the text quotes 'ID').</summary>
    public const int MessageStreamIdNotFound = 1226;
    /// <summary>The stream <c>ID</c> has a bad format or was changed.</summary>
    public const int InvalidMessageStreamId = 1227;
    /// <summary>A server has exactly one inbound stream.</summary>
    public const int SecondInboundStream = 1228;
    /// <summary>The default transactional and inbound streams cannot be archived.</summary>
    public const int DefaultStreamCannotBeArchived = 1229;
    /// <summary>A stream with that <c>ID</c> already exists.</summary>
    public const int MessageStreamExists = 1230;
    /// <summary>The stream <c>Description</c> is over 1000 characters.</summary>
    public const int MessageStreamDescriptionTooLong = 1231;
    /// <summary>The stream passed its purge date and cannot be unarchived.</summary>
    public const int MessageStreamCannotBeUnarchived = 1232;
    /// <summary>The stream <c>ID</c> starts with <c>pm-</c>.</summary>
    public const int MessageStreamIdReservedPrefix = 1233;
    /// <summary>The stream <c>Description</c> contains HTML.</summary>
    public const int MessageStreamDescriptionHasHtml = 1234;
    /// <summary>The <c>MessageStream</c> named does not exist on the server.</summary>
    public const int MessageStreamNotFound = 1235;
    /// <summary>The stream named cannot send (an inbound stream).</summary>
    public const int MessageStreamCannotSend = 1236;
    /// <summary>The stream <c>ID</c> is reserved.</summary>
    public const int MessageStreamIdReserved = 1237;
    /// <summary><c>Custom</c> unsubscribe handling is not allowed.</summary>
    public const int CustomUnsubscribeNotAllowed = 1238;
    /// <summary>The unsubscribe handling type is not supported for this stream type.</summary>
    public const int UnsubscribeHandlingNotSupported = 1239;
    /// <summary>The <c>UnsubscribeHandlingType</c> is invalid.</summary>
    public const int InvalidUnsubscribeHandlingType = 1240;
    /// <summary>A webhook cannot be added to an archived stream.</summary>
    public const int WebhookStreamArchived = 1350;
    /// <summary>An inbound stream has no webhooks (inbound mail goes to <c>InboundHookUrl</c>).</summary>
    public const int WebhookOnInboundStream = 1351;
    /// <summary>No webhook with that ID.</summary>
    public const int WebhookNotFound = 1352;
    /// <summary>The webhook <c>Url</c> is missing or invalid.</summary>
    public const int InvalidWebhookUrl = 1354;
    /// <summary>The webhook request body is empty.</summary>
    public const int WebhookBodyEmpty = 1355;
    /// <summary>An <c>ID</c> was given when creating a webhook.</summary>
    public const int WebhookIdGivenOnCreate = 1356;
    /// <summary>A webhook's <c>ID</c> or <c>MessageStream</c> was changed on edit.</summary>
    public const int WebhookFieldChanged = 1357;
    /// <summary>A webhook header <c>Name</c> is invalid.</summary>
    public const int InvalidWebhookHeaderName = 1358;
    /// <summary>The stream holds the most webhooks allowed.</summary>
    public const int WebhookLimitReached = 1359;
    /// <summary>A webhook field has an invalid value.</summary>
    public const int InvalidWebhookField = 1361;
    /// <summary>The <c>SuppressionReason</c> is invalid.</summary>
    public const int InvalidSuppressionReason = 1404;
    /// <summary>The <c>Origin</c> is invalid.</summary>
    public const int InvalidSuppressionOrigin = 1405;
    /// <summary>The suppressions request body is missing or invalid.</summary>
    public const int InvalidSuppressionRequest = 1409;
    /// <summary>More suppressions than one request may change.</summary>
    public const int TooManySuppressions = 1410;
    /// <summary>A suppression needs an <c>EmailAddress</c>.</summary>
    public const int SuppressionAddressRequired = 1411;
    /// <summary>The stats <c>fromdate</c> is more than a year ago.</summary>
    public const int StatsFromDateTooOld = 1500;
    /// <summary>A stats parameter is out of its range (Mailroom: an unknown <c>mailboxprovider</c>).</summary>
    public const int StatsParameterOutOfRange = 1501;
    /// <summary>The stats <c>fromdate</c> is later than the <c>todate</c>.</summary>
    public const int StatsFromDateAfterToDate = 1502;

    // The DMARC API (Postmark's separate DMARC product, /dmarc) answers with the HTTP status as its code.
    /// <summary>DMARC API (its own scheme: the code is the HTTP status): a parameter or field is missing or invalid.</summary>
    public const int DmarcInvalidRequest = 422;
    /// <summary>DMARC API: no report with that ID (HTTP 404).</summary>
    public const int DmarcNotFound = 404;
    /// <summary>DMARC API: the body is not valid JSON (HTTP 400).</summary>
    public const int DmarcBadRequest = 400;
}
