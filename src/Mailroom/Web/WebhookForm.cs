namespace Mailroom.Web;

/// <summary>
/// The webhook form of the web app, bound from its fields and turned into the Webhooks API's own request
/// (<see cref="WebhookRequest"/>), so the page goes through <c>WebhookService</c> and its validation exactly like the API.
/// </summary>
public sealed class WebhookForm
{
    public string? Url { get; set; }
    public string? Stream { get; set; }
    public string? AuthUsername { get; set; }
    /// <summary>On edit, blank keeps the stored password (the page never shows it).</summary>
    public string? AuthPassword { get; set; }
    /// <summary>One header a line, <c>Name: Value</c>.</summary>
    public string? Headers { get; set; }
    public bool Open { get; set; }
    public bool OpenFirstOnly { get; set; }
    public bool Click { get; set; }
    public bool Delivery { get; set; }
    public bool Bounce { get; set; }
    public bool BounceContent { get; set; }
    public bool SpamComplaint { get; set; }
    public bool SpamComplaintContent { get; set; }
    public bool SubscriptionChange { get; set; }

    public static WebhookForm From(WebhookResponse w) => new()
    {
        Url = w.Url,
        Stream = w.MessageStream,
        AuthUsername = w.HttpAuth?.Username,
        Headers = string.Join("\n", w.HttpHeaders.Select(h => $"{h.Name}: {h.Value}")),
        Open = w.Triggers.Open.Enabled,
        OpenFirstOnly = w.Triggers.Open.PostFirstOpenOnly,
        Click = w.Triggers.Click.Enabled,
        Delivery = w.Triggers.Delivery.Enabled,
        Bounce = w.Triggers.Bounce.Enabled,
        BounceContent = w.Triggers.Bounce.IncludeContent,
        SpamComplaint = w.Triggers.SpamComplaint.Enabled,
        SpamComplaintContent = w.Triggers.SpamComplaint.IncludeContent,
        SubscriptionChange = w.Triggers.SubscriptionChange.Enabled,
    };

    /// <summary>The API request. <paramref name="current"/> is the webhook being edited (null when creating): its
    /// stream is kept and a blank password keeps its password; a blank user name removes HTTP authentication.</summary>
    public WebhookRequest ToRequest(WebhookResponse? current)
    {
        WebhookHttpAuth auth;
        var user = AuthUsername?.Trim() ?? "";
        if (user.Length == 0)
            auth = new WebhookHttpAuth("", "");
        else if (string.IsNullOrEmpty(AuthPassword) && current?.HttpAuth is { } had)
            auth = new WebhookHttpAuth(user, had.Password);
        else
            auth = new WebhookHttpAuth(user, AuthPassword ?? "");
        return new WebhookRequest
        {
            Url = Url ?? "",
            MessageStream = current is null ? Stream : null,
            HttpAuth = auth,
            HttpHeaders = ParseHeaders(Headers),
            Triggers = new WebhookTriggersRequest
            {
                Open = new TriggerRequest(Open, PostFirstOpenOnly: OpenFirstOnly),
                Click = new TriggerRequest(Click),
                Delivery = new TriggerRequest(Delivery),
                Bounce = new TriggerRequest(Bounce, IncludeContent: BounceContent),
                SpamComplaint = new TriggerRequest(SpamComplaint, IncludeContent: SpamComplaintContent),
                SubscriptionChange = new TriggerRequest(SubscriptionChange),
            },
        };
    }

    /// <summary>"Name: Value" lines (blank lines skipped); the names and values are then checked by the service.</summary>
    public static List<WebhookHeader?> ParseHeaders(string? text)
    {
        var list = new List<WebhookHeader?>();
        foreach (var raw in (text ?? "").Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Trim().Length == 0)
                continue;
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
                throw new MailroomException(PostmarkErrors.InvalidWebhookHeaderName, $"Invalid header line '{line}': write one header a line as 'Name: Value'.");
            list.Add(new WebhookHeader(line[..colon].Trim(), line[(colon + 1)..].Trim()));
        }
        return list;
    }
}
