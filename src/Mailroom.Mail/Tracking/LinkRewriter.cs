using System.Text.RegularExpressions;
using AngleSharp;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;

namespace Mailroom.Mail.Tracking;

/// <summary>Where a tracked link was: Postmark's <c>ClickLocation</c>.</summary>
public enum LinkLocation { HTML = 0, Text = 1 }

/// <summary>A link of a message as it was written, before rewriting: what a click redirects to.</summary>
public sealed record TrackedLink(int Index, string Url, LinkLocation Location);

/// <summary>
/// The distinct links of one message, numbered in the order they are first met. Every recipient's copy is rewritten
/// from the same bodies in the same order, so a link has the same index in every copy, and the table is stored once
/// per message (the click token names the index, the redirect reads the URL from the table).
/// </summary>
public sealed class LinkTable
{
    private readonly Dictionary<(string, LinkLocation), TrackedLink> _byUrl = [];
    private readonly List<TrackedLink> _links = [];

    public IReadOnlyList<TrackedLink> Links => _links;

    public int IndexOf(string url, LinkLocation location)
    {
        if (_byUrl.TryGetValue((url, location), out var link))
            return link.Index;
        link = new TrackedLink(_links.Count, url, location);
        _byUrl[(url, location)] = link;
        _links.Add(link);
        return link.Index;
    }
}

/// <summary>
/// Rewrites the links of a message's bodies to tracking URLs and adds the open-tracking image. Pure: the caller says
/// what each link becomes. HTML goes through a real HTML5 parser (AngleSharp), so links in comments, scripts or
/// attribute values that merely look like URLs are left alone; plain text has no markup, so its links are found by
/// their shape (an <c>http(s)://</c> run up to white space or angle brackets, RFC 3986 Appendix C's delimiters).
/// </summary>
public static partial class LinkRewriter
{
    /// <summary>
    /// Whether a link is one to track: an absolute http or https URL. Never: <c>mailto:</c> and other schemes, anchors
    /// (<c>#top</c>) and relative references, template placeholders such as <c>{{{ pm:unsubscribe }}}</c>, and
    /// unsubscribe links (a URL that says "unsubscribe"): those must reach the sender's page directly, and RFC 8058
    /// one-click links must not be fetched through a redirect.
    /// </summary>
    public static bool IsTrackable(string? url)
    {
        if (string.IsNullOrWhiteSpace(url))
            return false;
        url = url.Trim();
        if (url.Contains("{{", StringComparison.Ordinal) || url.Contains("unsubscribe", StringComparison.OrdinalIgnoreCase))
            return false;
        return Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            && !string.IsNullOrEmpty(uri.Host);
    }

    /// <summary>
    /// Rewrites the HTML body: each trackable <c>a</c> or <c>area</c> <c>href</c> becomes <paramref name="track"/>'s
    /// answer for it (null: leave the link), and with <paramref name="pixelUrl"/> a 1×1 image is added at the end of
    /// the body. A link marked <c>data-pm-no-track</c>, or whose text says "unsubscribe", is left as it is.
    /// </summary>
    public static string RewriteHtml(string html, Func<string, string?>? track, string? pixelUrl)
    {
        var document = new HtmlParser().ParseDocument(html);
        if (track is not null)
        {
            foreach (var element in document.QuerySelectorAll("a[href], area[href]"))
            {
                var href = element.GetAttribute("href")!.Trim();
                if (!IsTrackable(href) || element.HasAttribute("data-pm-no-track")
                    || (element.TextContent?.Contains("unsubscribe", StringComparison.OrdinalIgnoreCase) ?? false))
                    continue;
                if (track(href) is { } replacement)
                    element.SetAttribute("href", replacement);
            }
        }
        if (pixelUrl is not null)
        {
            var img = (IHtmlImageElement)document.CreateElement("img");
            img.SetAttribute("src", pixelUrl);
            img.SetAttribute("width", "1");
            img.SetAttribute("height", "1");
            img.SetAttribute("alt", "");
            img.SetAttribute("style", "display:block;width:1px;height:1px;border:0;margin:0;padding:0");
            (document.Body ?? document.DocumentElement).AppendChild(img);
        }
        return document.ToHtml();
    }

    /// <summary>Rewrites the links of a plain-text body (null from <paramref name="track"/>: leave the link).</summary>
    public static string RewriteText(string text, Func<string, string?> track) =>
        TextUrl().Replace(text, m =>
        {
            var url = m.Value;
            // Punctuation that ends a sentence is not part of the link ("see https://example.com/a.").
            var end = url.Length;
            while (end > 0 && ".,;:!?'\")]}".Contains(url[end - 1]))
                end--;
            var link = url[..end];
            if (!IsTrackable(link) || track(link) is not { } replacement)
                return url;
            return replacement + url[end..];
        });

    [GeneratedRegex(@"\bhttps?://[^\s<>""]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex TextUrl();
}
