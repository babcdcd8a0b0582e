using System.Text;
using Mailroom.Mail.Bounces;

namespace Mailroom.Mail.Tests.Bounces;

/// <summary>
/// Agreement between the parser's classification and the reason a corpus' source states (mapped by
/// <see cref="SourceReasonMapping"/>). A single-recipient file agrees when the report's type is the mapped
/// type; a multi-recipient file when every stated recipient type is found among the parser's recipients and
/// the counts match.
/// </summary>
public static class Agreement
{
    public sealed record Result(int Files, int AgreeingFiles, int Recipients, int AgreeingRecipients, IReadOnlyList<string> Disagreements)
    {
        public double Share => Files == 0 ? 0 : 100.0 * AgreeingFiles / Files;

        public double RecipientShare => Recipients == 0 ? 0 : 100.0 * AgreeingRecipients / Recipients;

        public string Figure(string name) =>
            $"{name}: {AgreeingFiles}/{Files} files stating a reason agree ({Share:F1}%), {AgreeingRecipients}/{Recipients} recipients ({RecipientShare:F1}%).";

        public string Summary(string name) =>
            $"{name}: {AgreeingFiles}/{Files} files stating a reason agree ({Share:F1}%), {AgreeingRecipients}/{Recipients} recipients ({RecipientShare:F1}%).\n"
            + $"Disagreements ({Disagreements.Count}):\n{string.Join('\n', Disagreements)}";
    }

    /// <summary>
    /// Other defensible readings of sisimai reasons (src/Mailroom.Mail/Bounces/README.md, "Vocabulary"), reported beside
    /// the figure; the mapping used for the figure stays <see cref="SourceReasonMapping"/>.
    /// </summary>
    public static readonly IReadOnlyList<(string Name, IReadOnlyDictionary<string, BounceType> Overrides)> AlternativeMappings =
    [
        ("filtered=HardBounce", new Dictionary<string, BounceType>(StringComparer.OrdinalIgnoreCase) { ["filtered"] = BounceType.HardBounce }),
        ("networkerror=Transient", new Dictionary<string, BounceType>(StringComparer.OrdinalIgnoreCase) { ["networkerror"] = BounceType.Transient }),
        ("both", new Dictionary<string, BounceType>(StringComparer.OrdinalIgnoreCase) { ["filtered"] = BounceType.HardBounce, ["networkerror"] = BounceType.Transient }),
    ];

    /// <summary>The figure under each of <see cref="AlternativeMappings"/>, one line each.</summary>
    public static string AlternativeFigures(IReadOnlyCollection<CorpusEntry> entries, Func<CorpusEntry, string> pathOf) =>
        string.Join('\n', AlternativeMappings.Select(a => Measure(entries, pathOf, a.Overrides) is var r
            ? $"  under {a.Name}: {r.AgreeingFiles}/{r.Files} files ({r.Share:F1}%)" : ""));

    public static Result Measure(IEnumerable<CorpusEntry> entries, Func<CorpusEntry, string> pathOf, IReadOnlyDictionary<string, BounceType>? overrides = null)
    {
        var files = 0;
        var agreeingFiles = 0;
        var recipients = 0;
        var agreeingRecipients = 0;
        var disagreements = new List<string>();
        foreach (var entry in entries.Where(e => e.Reasons.Any(r => r.Length > 0)))
        {
            files++;
            BounceReport report;
            using (var stream = File.OpenRead(pathOf(entry)))
                report = BounceParser.Parse(stream);

            var expected = entry.Reasons.Select(r => overrides is not null && overrides.TryGetValue(r, out var o) ? o : SourceReasonMapping.Map[r]).ToList();
            bool agrees;
            if (expected.Count == 1)
            {
                agrees = report.Type == expected[0];
                recipients++;
                if (agrees)
                    agreeingRecipients++;
            }
            else
            {
                var got = report.Recipients.Select(r => r.Type).ToList();
                var matched = 0;
                foreach (var type in expected)
                {
                    recipients++;
                    if (got.Remove(type))
                    {
                        matched++;
                        agreeingRecipients++;
                    }
                }
                agrees = matched == expected.Count && report.Recipients.Count == expected.Count;
            }
            if (agrees)
                agreeingFiles++;
            else
                disagreements.Add($"  {entry.File}: stated {string.Join('|', entry.Reasons)} => {string.Join('|', expected)}; parser {report.Kind}/{report.Type} [{string.Join('|', report.Recipients.Select(r => $"{r.Email} {r.Type} {r.Status} {r.SmtpCode}"))}] {Shorten(report.Recipients.FirstOrDefault()?.Diagnostic)}");
        }
        return new Result(files, agreeingFiles, recipients, agreeingRecipients, disagreements);
    }

    private static string Shorten(string? text) => text is null ? "" : text.Length <= 300 ? text : text[..300] + "…";
}
