using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Mailroom.Web;

/// <summary>
/// How the pages show customer mail (the signed-in message pages, the customer view, the template preview): the raw
/// message's header section, and customer HTML only inside the page's sandboxed iframe.
/// </summary>
public static class MessageView
{
    /// <summary>The header section of a raw message: up to the first empty line (RFC 5322 §2.1), the whole text when
    /// there is none. A bare-LF message (as stored from a lenient client) is split at its first blank line too.</summary>
    public static string HeaderSection(string raw)
    {
        var end = raw.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0) end = raw.IndexOf("\n\n", StringComparison.Ordinal);
        return end < 0 ? raw : raw[..end];
    }

    /// <summary>Customer HTML for the iframe of the page that frames it, under <see cref="WebApp.MessageHtmlPolicy"/>: a
    /// sandboxed document with a unique origin (no script, no forms, no access to the app's cookies or DOM) and no network
    /// but inline images, so neither script nor tracking pixels run or load in the viewer's browser; framable by the app
    /// alone.</summary>
    public static ContentResult SandboxedHtml(HttpResponse response, string html)
    {
        response.Headers.ContentSecurityPolicy = WebApp.MessageHtmlPolicy;
        response.Headers.XFrameOptions = "SAMEORIGIN";
        return new ContentResult { Content = html, ContentType = "text/html; charset=utf-8" };
    }
}
