using System.Globalization;
using Mailroom.Core.Dmarc;
using Microsoft.AspNetCore.Mvc;

namespace Mailroom.Web.Pages.Dmarc;

/// <summary>
/// "Who sends as you" for a chosen period (whole UTC days, 30 by default): the groups of <see cref="DmarcSourcesReport"/>
/// by kind (this Mailroom with the send log's delivered count beside the reported count, known services, forwarders
/// and mailing lists, unknown), their pass rates, and what <c>p=quarantine</c> / <c>p=reject</c> would block.
/// </summary>
public sealed class DmarcSourcesModel(DmarcService dmarc, DmarcSourcesReport report, TimeProvider clock) : DmarcPageModel(dmarc)
{
    public const int DefaultDays = 30;

    [BindProperty(SupportsGet = true)] public string? From { get; set; }
    [BindProperty(SupportsGet = true)] public string? To { get; set; }
    public DmarcSources Sources { get; private set; } = null!;
    public string? Problem { get; private set; }

    /// <summary>The kinds in the order shown, with their headings.</summary>
    public static readonly (string Kind, string Heading, string Explanation)[] Kinds =
    [
        ("mailroom", "This Mailroom", "Mail Mailroom delivered for you, from its own addresses."),
        ("known", "Known services", "Sending services recognised by their DKIM or SPF domain or their reverse DNS."),
        ("forwarder", "Forwarders and mailing lists", "Your mail passed on by someone else: forwarding breaks SPF, and a list may break DKIM."),
        ("unknown", "Unknown sources", "Senders Mailroom cannot name: a service you forgot, or someone using your domain."),
    ];

    public async Task<IActionResult> OnGetAsync()
    {
        if (!await LoadAsync())
            return NotFoundPage();
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        From = string.IsNullOrWhiteSpace(From) ? today.AddDays(1 - DefaultDays).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : From.Trim();
        To = string.IsNullOrWhiteSpace(To) ? today.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : To.Trim();
        DateTime? from, to;
        try
        {
            from = DmarcService.ParseDate(From, "From");
            to = DmarcService.ParseDate(To, "To");
        }
        catch (MailroomException e)
        {
            Problem = e.Message;
            from = today.AddDays(1 - DefaultDays).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
            to = today.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        }
        Sources = await report.BuildAsync(Record, from, to, From, To, HttpContext.RequestAborted);
        return Page();
    }

    public static string Percent(long part, long whole) =>
        whole == 0 ? "—" : (100.0 * part / whole).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    public static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
}
