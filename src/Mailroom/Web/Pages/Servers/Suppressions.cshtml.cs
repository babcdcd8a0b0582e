using System.Text;
using Mailroom.Core.Events;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Web.Pages.Servers;

/// <summary>One stream's suppressions: paged search here; adding and removing through <see cref="SuppressionService"/>
/// (the API's own path: webhooks and the send-path check follow); CSV export of the whole list.</summary>
public sealed class SuppressionsModel(SuppressionService suppressions) : StreamPageModel
{
    public const int PageSize = 50;
    [BindProperty(SupportsGet = true)] public string? Q { get; set; }
    [BindProperty(SupportsGet = true)] public int Offset { get; set; }
    public List<Suppression> Rows { get; private set; } = [];
    public int Total { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        if (!await LoadServerAndStreamAsync())
            return NotFoundPage();
        var ct = HttpContext.RequestAborted;
        Offset = Math.Max(0, Offset);
        var q = Db.Suppressions.AsNoTracking().Where(s => s.ServerId == Id && s.Stream == Stream);
        if (!string.IsNullOrWhiteSpace(Q))
        {
            var lower = Q.Trim().ToLowerInvariant();
            q = q.Where(s => s.Email.Contains(lower));
        }
        Total = await q.CountAsync(ct);
        Rows = await q.OrderByDescending(s => s.CreatedAt).ThenBy(s => s.Email).Skip(Offset).Take(PageSize).ToListAsync(ct);
        return Page();
    }

    /// <summary>The stream's whole list as CSV (RFC 4180), written row by row.</summary>
    public async Task<IActionResult> OnGetExportAsync()
    {
        if (!await LoadServerAndStreamAsync())
            return NotFoundPage();
        var dump = await suppressions.DumpAsync(Id, Stream!, null, null, null, null, null, HttpContext.RequestAborted);
        var csv = new StringBuilder("EmailAddress,SuppressionReason,Origin,CreatedAt\r\n");
        foreach (var s in dump.Suppressions)
            csv.Append(Field(s.EmailAddress)).Append(',').Append(Field(s.SuppressionReason)).Append(',').Append(Field(s.Origin)).Append(',')
               .Append(s.CreatedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ")).Append("\r\n");
        return File(Encoding.UTF8.GetBytes(csv.ToString()), "text/csv; charset=utf-8", $"suppressions-server{Id}-{Stream}.csv");
    }

    public async Task<IActionResult> OnPostAddAsync(string? emails)
    {
        if (!await LoadServerAndStreamAsync(write: true))
            return NotFoundPage();
        var list = (emails ?? "").Split(['\n', '\r', ',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(e => (SuppressionAddress?)new SuppressionAddress(e)).ToList();
        return await ChangeAsync(async () => Summary(await suppressions.CreateAsync(Id, Stream!, new SuppressionRequest(list), HttpContext.RequestAborted)), Back);
    }

    public async Task<IActionResult> OnPostRemoveAsync(string? email)
    {
        if (!await LoadServerAndStreamAsync(write: true))
            return NotFoundPage();
        return await ChangeAsync(async () => Summary(await suppressions.DeleteAsync(Id, Stream!,
            new SuppressionRequest([new SuppressionAddress(email)]), HttpContext.RequestAborted)), Back);
    }

    private string Back => $"/app/servers/{Id}/suppressions?stream={Uri.EscapeDataString(Stream ?? "")}";

    private static string Summary(SuppressionResults r) =>
        string.Join(" ", r.Suppressions.Select(s => $"{s.EmailAddress}: {s.Status}{(s.Message is { Length: > 0 } m ? " (" + m + ")" : "")}."));

    /// <summary>A CSV field; a leading = + - @ is prefixed so a spreadsheet does not run it as a formula (CSV injection).</summary>
    private static string Field(string v)
    {
        if (v.Length > 0 && v[0] is '=' or '+' or '-' or '@')
            v = "'" + v;
        return v.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + v.Replace("\"", "\"\"") + "\"" : v;
    }
}
