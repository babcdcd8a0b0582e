using System.CommandLine;
using Mailroom.Core.Dmarc;
using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Cli;

/// <summary>
/// <c>mailroom dmarc import --domain D FILE...</c>: stores aggregate reports saved as files (XML, .gz, .zip or whole
/// .eml messages, sniffed from content) for a domain monitored through <c>POST /records</c>, with the same ingestion
/// as the hosted reporting address: same limits, same de-duplication (importing a file twice stores it once).
/// Exit code 0 when every file was read, 1 when some report was refused, 2 when the domain is not monitored.
/// </summary>
internal static class DmarcCommand
{
    public static Command Build(Func<ParseResult, CancellationToken, Task<AsyncServiceScope>> openStore, IEnumerable<Option> storeOptions)
    {
        var domain = new Option<string>("--domain") { Description = "The monitored domain (as created with POST /records).", Required = true };
        var files = new Argument<string[]>("FILE") { Description = "Report files: XML, gzip, zip or email (.eml).", Arity = ArgumentArity.OneOrMore };
        var import = new Command("import", "Import DMARC aggregate report files for a monitored domain.") { domain, files };
        foreach (var o in storeOptions)
            import.Options.Add(o);
        import.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            await using var scope = await openStore(parse, ct);
            var db = scope.ServiceProvider.GetRequiredService<MailroomDb>();
            var name = parse.GetValue(domain)!.Trim().TrimEnd('.').ToLowerInvariant();
            var record = await db.DmarcDomains.OrderBy(d => d.Id).FirstOrDefaultAsync(d => d.Domain == name, ct);
            if (record is null)
            {
                await error.WriteLineAsync($"mailroom dmarc import: {name} is not monitored (create it with POST /records).");
                return 2;
            }
            var ingestion = scope.ServiceProvider.GetRequiredService<DmarcIngestion>();
            var exit = 0;
            foreach (var file in parse.GetValue(files) ?? [])
            {
                try
                {
                    await using var stream = File.OpenRead(file);
                    var result = await ingestion.IngestAsync(record, stream, "file:" + Path.GetFileName(file), ct);
                    await output.WriteLineAsync($"{file}: {result.Note}");
                    if (result.Refused.Count > 0) exit = 1;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    await error.WriteLineAsync($"mailroom dmarc import: {file}: {e.Message}");
                    exit = 1;
                }
            }
            return exit;
        });
        var dmarc = new Command("dmarc", "DMARC monitoring tools.");
        dmarc.Subcommands.Add(import);
        return dmarc;
    }
}
