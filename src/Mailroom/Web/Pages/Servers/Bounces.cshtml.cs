using Mailroom.Core.Events;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Web.Pages.Servers;

public sealed class BouncesModel(BounceService bounces) : StreamPageModel
{
    public const int PageSize = 50;
    [BindProperty(SupportsGet = true)] public string? Email { get; set; }
    [BindProperty(SupportsGet = true)] public bool Inactive { get; set; }
    [BindProperty(SupportsGet = true)] public int Offset { get; set; }
    public BounceList List { get; private set; } = new(0, []);

    public async Task<IActionResult> OnGetAsync()
    {
        if (!await LoadServerAndStreamAsync())
            return NotFoundPage();
        var ct = HttpContext.RequestAborted;
        Offset = Math.Clamp(Offset, 0, 10_000 - PageSize);
        List = await bounces.ListAsync(Id, new BounceQuery(new Paging(PageSize, Offset), Inactive: Inactive ? true : null,
            EmailFilter: string.IsNullOrWhiteSpace(Email) ? null : Email.Trim(), Stream: Stream!), ct);
        return Page();
    }

    public async Task<IActionResult> OnPostActivateAsync(long bounceId)
    {
        if (!await LoadServerAsync(write: true))
            return NotFoundPage();
        return await ChangeAsync(async () =>
        {
            var r = await bounces.ActivateAsync(Id, bounceId, HttpContext.RequestAborted);
            return r.Message;
        }, $"/app/servers/{Id}/bounces");
    }
}
