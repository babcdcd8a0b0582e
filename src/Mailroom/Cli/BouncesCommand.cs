using System.CommandLine;
using System.Text.Json;
using Mailroom.Mail.Bounces;

namespace Mailroom.Cli;

/// <summary>
/// <c>mailroom bounces parse [--json] FILE...</c>: classifies bounce, auto-reply and complaint messages saved
/// as files, with the same parser the MX role uses, so operators can see how a notice is read. Pure: reads only
/// the files, touches no store.
/// </summary>
internal static class BouncesCommand
{
    private static readonly JsonSerializerOptions LineJson = new()
    {
        // One object per line; null fields are kept so every line has the same keys.
        WriteIndented = false,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static Command Build()
    {
        var json = new Option<bool>("--json") { Description = "One JSON object per line and file: File, IsBounce, Type, FeedbackType, Recipients [{Email, Type, Status, SmtpCode, Diagnostic}]." };
        var files = new Argument<string[]>("FILE") { Description = "Message files (RFC 5322, as received: .eml).", Arity = ArgumentArity.OneOrMore };
        var parse = new Command("parse", "Classify saved bounce / complaint / auto-reply messages (Postmark bounce types).") { json, files };
        parse.SetAction(async (result, ct) =>
        {
            var output = result.InvocationConfiguration.Output;
            var error = result.InvocationConfiguration.Error;
            var exit = 0;
            foreach (var file in result.GetValue(files) ?? [])
            {
                ParsedFile parsed;
                try
                {
                    await using var stream = File.OpenRead(file);
                    // Loads with a bounded MIME depth and never throws on bad content (BounceParser.Parse(Stream)).
                    parsed = ParsedFile.From(file, BounceParser.Parse(stream));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
                {
                    await error.WriteLineAsync($"mailroom bounces parse: {file}: {e.Message}");
                    exit = 1;
                    continue;
                }
                await output.WriteLineAsync(result.GetValue(json) ? JsonSerializer.Serialize(parsed, LineJson) : parsed.ToText());
            }
            return exit;
        });

        var bounces = new Command("bounces", "Bounce tools.");
        bounces.Subcommands.Add(parse);
        return bounces;
    }

    internal sealed record ParsedFile(string File, bool IsBounce, string Type, string? FeedbackType, IReadOnlyList<ParsedRecipient> Recipients)
    {
        public static ParsedFile From(string file, BounceReport report) => new(
            file,
            report.IsDeliveryFailure,
            report.Type.ToString(),
            report.FeedbackType,
            [.. report.Recipients.Select(r => new ParsedRecipient(r.Email, r.Type.ToString(), r.Status, r.SmtpCode, r.Diagnostic))]);

        /// <summary>One readable line: file, type, verdict, feedback type, then each recipient.</summary>
        public string ToText()
        {
            var verdict = IsBounce ? "bounce" : "not a bounce";
            var feedback = FeedbackType is null ? "" : $", feedback {FeedbackType}";
            var recipients = Recipients.Count == 0 ? "no recipient" : string.Join("; ", Recipients.Select(r =>
                string.Join(' ', new[] { r.Email, r.Type, r.Status, r.SmtpCode?.ToString(System.Globalization.CultureInfo.InvariantCulture), r.Diagnostic is null ? null : $"\"{Shorten(r.Diagnostic)}\"" }
                    .Where(p => !string.IsNullOrEmpty(p)))));
            return $"{File}: {Type} ({verdict}{feedback}): {recipients}";
        }

        private static string Shorten(string text) => text.Length <= 160 ? text : text[..160] + "…";
    }

    internal sealed record ParsedRecipient(string Email, string Type, string? Status, int? SmtpCode, string? Diagnostic);
}
