using Mailroom.Core.Templates;
using Microsoft.AspNetCore.Mvc;

namespace Mailroom.Web.Pages.Servers;

/// <summary>A server's templates and layouts, a page at a time, through the Templates API's own list.</summary>
public sealed class TemplatesModel(TemplateService templates) : ServerPageModel
{
    public const int PageSize = 50;
    [BindProperty(SupportsGet = true)] public string? Type { get; set; }
    [BindProperty(SupportsGet = true)] public int Offset { get; set; }
    public TemplateList List { get; private set; } = new(0, []);

    public async Task<IActionResult> OnGetAsync()
    {
        if (!await LoadServerAsync())
            return NotFoundPage();
        Type = Type is "Standard" or "Layout" ? Type : "All";
        Offset = Math.Clamp(Offset, 0, TemplateService.MaxTemplatesPerServer);
        List = await templates.ListAsync(Id, PageSize, Offset, Type, null, HttpContext.RequestAborted);
        return Page();
    }
}
