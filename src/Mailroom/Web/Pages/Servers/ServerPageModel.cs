using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Web.Pages.Servers;

/// <summary>
/// Base of the pages of one server (<c>/app/servers/{id}</c>…): the one place that decides whether the signed-in user
/// may see the server (and change it). A server of another account, or one a member was not given, is answered
/// exactly like one that does not exist (404), so IDs in URLs reveal nothing.
/// </summary>
public abstract class ServerPageModel : WebPageModel
{
    [BindProperty(SupportsGet = true)] public int Id { get; set; }
    public Server Server { get; private set; } = null!;
    /// <summary>Whether this user may change the server: owners and admins always, a member by its grant.</summary>
    public bool CanWrite { get; private set; }

    /// <summary>Loads <see cref="Server"/> and <see cref="CanWrite"/> when this user may see the server (and change it,
    /// when <paramref name="write"/>); false means the page answers <see cref="WebPageModel.NotFoundPage"/>.</summary>
    protected async Task<bool> LoadServerAsync(bool write = false)
    {
        var server = await Db.Servers.AsNoTracking().FirstOrDefaultAsync(s => s.Id == Id && s.AccountId == AccountId, HttpContext.RequestAborted);
        if (server is null)
            return false;
        bool canWrite;
        if (IsAdmin)
            canWrite = true;
        else if (CurrentUser.Servers.FirstOrDefault(s => s.ServerId == Id) is { } grant)
            canWrite = grant.CanWrite;
        else
            return false;
        if (write && !canWrite)
            return false;
        (Server, CanWrite) = (server, canWrite);
        return true;
    }

    /// <summary>The server, then one thing of it read by <paramref name="load"/>, which filters by this server: null when
    /// both are found, else the 404 page. The services answer a missing (or another server's) message or webhook with a
    /// <see cref="MailroomException"/> (the API's "not found"), which the page answers like a missing server.</summary>
    protected async Task<IActionResult?> LoadServerAndAsync(Func<CancellationToken, Task> load, bool write = false)
    {
        if (!await LoadServerAsync(write))
            return NotFoundPage();
        try
        {
            await load(HttpContext.RequestAborted);
            return null;
        }
        catch (MailroomException)
        {
            return NotFoundPage();
        }
    }
}

/// <summary>Base of the server pages that show one sending stream at a time (activity, bounces, suppressions): the
/// server, its sending streams and the one shown (<see cref="StreamPicker"/>: the one asked for, else the first).</summary>
public abstract class StreamPageModel : ServerPageModel
{
    [BindProperty(SupportsGet = true)] public string? Stream { get; set; }
    public List<string> StreamIds { get; private set; } = [];

    /// <summary><see cref="ServerPageModel.LoadServerAsync"/>, then the streams; false means 404. After true,
    /// <see cref="Stream"/> is never null.</summary>
    protected async Task<bool> LoadServerAndStreamAsync(bool write = false)
    {
        if (!await LoadServerAsync(write))
            return false;
        StreamIds = await StreamPicker.SendingStreamIdsAsync(Db, Id, HttpContext.RequestAborted);
        Stream = StreamPicker.Choose(Stream, StreamIds);
        return true;
    }
}
