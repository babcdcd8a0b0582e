using System.Net;
using Mailroom.Core.Identities;
using static Mailroom.Api.ApiConventions;

namespace Mailroom.Api;

/// <summary>Sender Signatures API, spec §5 (account token), and the page a confirmation link opens (no token:
/// the link's secret is the proof).</summary>
public static class SenderSignaturesApi
{
    public static void MapSenderSignaturesApi(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/senders").RequireAccountToken();
        g.MapGet("/", List);
        g.MapPost("/", Create);
        g.MapGet("/{id:int}", Get);
        g.MapPut("/{id:int}", Edit);
        g.MapDelete("/{id:int}", Delete);
        g.MapPost("/{id:int}/resend", Resend);
        g.MapPost("/{id:int}/verifySpf", VerifySpf);
        g.MapPost("/{id:int}/requestNewDkim", RequestNewDkim);

        app.MapGet("/senders/confirm/{token}", Confirm);
    }

    private static async Task<IResult> List(HttpContext http, SenderSignatureService signatures) =>
        Ok(await signatures.ListAsync(http.AccountId(), http.QueryPaging(500), http.RequestAborted));

    private static async Task<IResult> Get(int id, HttpContext http, SenderSignatureService signatures) =>
        Ok(await signatures.GetAsync(http.AccountId(), id, http.RequestAborted));

    private static async Task<IResult> Create(HttpContext http, SenderSignatureService signatures) =>
        Ok(await signatures.CreateAsync(http.AccountId(), await ReadBodyAsync(http, () => new SignatureRequest()), http.RequestAborted));

    private static async Task<IResult> Edit(int id, HttpContext http, SenderSignatureService signatures) =>
        Ok(await signatures.EditAsync(http.AccountId(), id, await ReadBodyAsync(http, () => new SignatureRequest()), http.RequestAborted));

    private static async Task<IResult> Delete(int id, HttpContext http, SenderSignatureService signatures)
    {
        var email = await signatures.DeleteAsync(http.AccountId(), id, http.RequestAborted);
        return Done($"Signature {email} removed.");
    }

    private static async Task<IResult> Resend(int id, HttpContext http, SenderSignatureService signatures)
    {
        var email = await signatures.ResendAsync(http.AccountId(), id, http.RequestAborted);
        return Done($"Confirmation email for Sender Signature {email} was re-sent.");
    }

    private static async Task<IResult> VerifySpf(int id, HttpContext http, SenderSignatureService signatures) =>
        Ok(await signatures.VerifySpfAsync(http.AccountId(), id, http.RequestAborted));

    private static async Task<IResult> RequestNewDkim(int id, HttpContext http, SenderSignatureService signatures) =>
        Done(await signatures.RequestNewDkimAsync(http.AccountId(), id, http.RequestAborted));

    private static async Task<IResult> Confirm(string token, HttpContext http, SenderSignatureService signatures)
    {
        var result = await signatures.ConfirmAsync(token, http.RequestAborted);
        var email = WebUtility.HtmlEncode(result.EmailAddress);
        var (status, title, text) = result.Outcome switch
        {
            ConfirmationOutcome.Confirmed => (200, "Sender confirmed",
                $"Thank you: <b>{email}</b> is confirmed. The account that asked may now send email from this address."),
            ConfirmationOutcome.AlreadyUsed => (410, "Link already used",
                $"This link has already been used: <b>{email}</b> was confirmed then. Nothing more to do."),
            ConfirmationOutcome.Superseded => (410, "Link replaced",
                $"A newer confirmation link was sent for <b>{email}</b>; this one no longer works. Use the link in the latest email."),
            ConfirmationOutcome.Expired => (410, "Link expired",
                $"This link for <b>{email}</b> has expired. Ask the account that added this address to send a new confirmation email."),
            _ => (404, "Unknown link",
                "This confirmation link is not known: it may be mistyped, or the sender signature was deleted."),
        };
        // The token is in the URL: keep the page out of caches and its address out of Referer headers.
        http.Response.Headers.CacheControl = "no-store";
        http.Response.Headers["Referrer-Policy"] = "no-referrer";
        return Results.Content($$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
            <title>{{title}} · Mailroom</title>
            <style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5;color:#222}h1{font-size:1.5rem}</style>
            </head><body><main><h1>{{title}}</h1><p>{{text}}</p></main></body></html>
            """, "text/html; charset=utf-8", System.Text.Encoding.UTF8, status);
    }
}
