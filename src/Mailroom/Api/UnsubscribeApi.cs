using System.Net;
using Mailroom.Core.Events;

namespace Mailroom.Api;

/// <summary>
/// The public unsubscribe links of streams whose unsubscribes Mailroom handles (no token: the signed link is the
/// proof). <c>POST</c> with <c>List-Unsubscribe=One-Click</c> is the one-click unsubscribe a mail client sends
/// (RFC 8058 §3.2); it needs no cookie or antiforgery token, since the URL itself is the secret. <c>GET</c> only shows a
/// confirmation form (link scanners and prefetchers fetch URLs, RFC 8058 §4 warns), whose button POSTs to the same URL.
/// </summary>
public static class UnsubscribeApi
{
    public static void MapUnsubscribeApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/unsubscribe/{token}", Page).ExcludeFromDescription();
        app.MapPost("/unsubscribe/{token}", Unsubscribe).ExcludeFromDescription().DisableAntiforgery();
    }

    private static async Task<IResult> Page(string token, UnsubscribeService unsubscribes, HttpContext http)
    {
        if (await unsubscribes.ReadAsync(token, http.RequestAborted) is not { } t)
            return Html(404, "Unknown link", "This unsubscribe link is not valid: it may be mistyped or cut short.");
        var action = WebUtility.HtmlEncode("/unsubscribe/" + token);
        return Html(200, "Unsubscribe",
            $"<p>Stop receiving this kind of email at <b>{WebUtility.HtmlEncode(t.Recipient)}</b>?</p>" +
            $"<form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"confirm\" value=\"yes\">" +
            "<button type=\"submit\">Unsubscribe</button></form>");
    }

    private static async Task<IResult> Unsubscribe(string token, UnsubscribeService unsubscribes, HttpContext http)
    {
        var outcome = await unsubscribes.UnsubscribeAsync(token, http.RequestAborted);
        return outcome switch
        {
            UnsubscribeOutcome.Invalid => Html(404, "Unknown link", "This unsubscribe link is not valid: it may be mistyped or cut short."),
            _ => Html(200, "Unsubscribed", "You are unsubscribed: you will no longer receive this kind of email from this sender."),
        };
    }

    private static IResult Html(int status, string title, string body) =>
        Results.Content($"<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head><body><h1>{title}</h1>{body}</body></html>",
            "text/html; charset=utf-8", System.Text.Encoding.UTF8, status);
}
