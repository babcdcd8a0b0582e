using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Web.Pages.Servers;

public sealed class ServerModel(ServerService servers, MessageStreamService streams, SmtpTokenService smtpTokens) : ServerPageModel
{
    public List<SmtpToken> SmtpTokens { get; private set; } = [];
    public SmtpTokenCreated? NewSmtpToken { get; private set; }

    public IReadOnlyList<MessageStreamResponse> Streams { get; private set; } = [];
    public int TokenCount { get; private set; }
    public IReadOnlyList<string>? RevealedTokens { get; private set; }

    private string Back => $"/app/servers/{Id}";

    public async Task<IActionResult> OnGetAsync() => await LoadAsync() ? Page() : NotFoundPage();

    private async Task<bool> LoadAsync(bool write = false)
    {
        if (!await LoadServerAsync(write))
            return false;
        Streams = (await streams.ListAsync(Id, null, includeArchived: true, HttpContext.RequestAborted)).MessageStreams;
        TokenCount = await Db.ServerTokens.CountAsync(t => t.ServerId == Id, HttpContext.RequestAborted);
        SmtpTokens = await Db.SmtpTokens.AsNoTracking().Where(t => t.ServerId == Id).OrderBy(t => t.Id).Take(500).ToListAsync(HttpContext.RequestAborted);
        return true;
    }

    /// <summary>A POST (never a GET, so no token lands in a URL, a history or a log), for users who may change the server.</summary>
    public async Task<IActionResult> OnPostRevealAsync()
    {
        if (!await LoadAsync(write: true))
            return NotFoundPage();
        RevealedTokens = (await servers.GetAsync(AccountId, Id, HttpContext.RequestAborted)).ApiTokens;
        return Page();
    }

    /// <summary>The secret is shown in this response only (never put in a redirect, a cookie or a URL).</summary>
    public async Task<IActionResult> OnPostSmtpCreateAsync(string stream)
    {
        if (!await LoadServerAsync(write: true))
            return NotFoundPage();
        try
        {
            NewSmtpToken = await smtpTokens.CreateAsync(Id, stream, HttpContext.RequestAborted);
        }
        catch (Mailroom.Core.MailroomException e)
        {
            FlashError = e.Message;
            return LocalRedirect(Back);
        }
        await LoadAsync(write: true);
        return Page();
    }

    public async Task<IActionResult> OnPostSmtpDeleteAsync(string stream, string accessKey)
    {
        if (!await LoadServerAsync(write: true))
            return NotFoundPage();
        return await ChangeAsync(async () =>
        {
            await smtpTokens.DeleteAsync(Id, stream, accessKey, HttpContext.RequestAborted);
            return $"SMTP token {accessKey} deleted.";
        }, Back);
    }

    public async Task<IActionResult> OnPostRotateAsync()
    {
        if (!await LoadServerAsync(write: true))
            return NotFoundPage();
        await servers.RotateTokenAsync(AccountId, Id, HttpContext.RequestAborted);
        Flash = "A new token replaced the old one. Reveal it to copy it.";
        return LocalRedirect(Back);
    }

    public async Task<IActionResult> OnPostPauseAsync(string stream, string? reason)
    {
        if (!await LoadServerAsync(write: true))
            return NotFoundPage();
        return await ChangeAsync(async () =>
        {
            await streams.PauseAsync(Id, stream, reason, HttpContext.RequestAborted);
            return $"Stream '{stream}' paused: sends are still accepted and queued, delivery waits.";
        }, Back);
    }

    public async Task<IActionResult> OnPostResumeAsync(string stream)
    {
        if (!await LoadServerAsync(write: true))
            return NotFoundPage();
        return await ChangeAsync(async () =>
        {
            await streams.ResumeAsync(Id, stream, HttpContext.RequestAborted);
            return $"Stream '{stream}' resumed.";
        }, Back);
    }

    public async Task<IActionResult> OnPostArchiveAsync(string stream)
    {
        if (!await LoadServerAsync(write: true))
            return NotFoundPage();
        return await ChangeAsync(async () =>
        {
            var r = await streams.ArchiveAsync(Id, stream, HttpContext.RequestAborted);
            return $"Stream '{stream}' archived; purged on {r.ExpectedPurgeDate:yyyy-MM-dd}.";
        }, Back);
    }

    public async Task<IActionResult> OnPostEditAsync(string? name, string? color)
    {
        if (!IsAdmin || !await LoadServerAsync(write: true))
            return NotFoundPage();
        return await ChangeAsync(async () =>
        {
            await servers.EditAsync(AccountId, Id, new ServerRequest { Name = name, Color = color }, HttpContext.RequestAborted);
            return "Settings saved.";
        }, Back);
    }

    public async Task<IActionResult> OnPostDeleteAsync()
    {
        if (!IsAdmin || !await LoadServerAsync(write: true))
            return NotFoundPage();
        return await ChangeAsync(async () =>
        {
            await servers.DeleteAsync(AccountId, Id, HttpContext.RequestAborted);
            return "Server deleted.";
        }, "/app/servers");
    }
}
