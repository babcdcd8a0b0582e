using System.CommandLine;
using System.Text.Json;
using Mailroom.Core.Identities;
using Mailroom.Core.Storage;

namespace Mailroom.Cli;

/// <summary>The <c>mailroom</c> command: <c>serve</c>, <c>accounts create|list</c>, <c>dns</c>, <c>streams pause|resume</c>, <c>purge</c>, <c>bounces parse</c>, <c>dmarc import</c>, <c>backup</c>, <c>restore</c>.</summary>
public static partial class MailroomCommandLine
{
    private static readonly Option<string?> ConfigOption = new("--config") { Description = "JSON config file (keys as in the README's configuration table). Env: MAILROOM_CONFIG; default ./mailroom.json if present." };
    /// <summary>One option per setting that has one, made from its descriptor (name, help, default).</summary>
    private static readonly Dictionary<string, Option> SettingOptions = SettingDescriptors.All.Where(d => d.Option is not null)
        .ToDictionary(d => d.Key, d => d.IsFlag
            ? (Option)new Option<bool>(d.Option!) { Description = d.HelpText }
            : new Option<string?>(d.Option!) { Description = d.HelpText, HelpName = d.Placeholder });

    /// <summary>The options of the settings named (by config key), for a command that reads only those.</summary>
    private static IEnumerable<Option> Options(params string[] keys) => keys.Select(k => SettingOptions[k]);

    /// <summary>Every setting's option, for <c>serve</c>.</summary>
    private static IEnumerable<Option> AllSettingOptions => SettingOptions.Values;

    public static RootCommand Build()
    {
        var root = new RootCommand("Mailroom: a self-hostable, Postmark-compatible email platform.");
        root.Options.Add(ConfigOption);
        root.Subcommands.Add(Serve());
        root.Subcommands.Add(Accounts());
        root.Subcommands.Add(Dns());
        root.Subcommands.Add(Streams());
        root.Subcommands.Add(Purge());
        root.Subcommands.Add(BouncesCommand.Build());
        root.Subcommands.Add(Backup());
        root.Subcommands.Add(Restore());
        root.Subcommands.Add(DmarcCommand.Build(OpenStoreAsync, Options("Data", "Database").Append(ConfigOption)));
        root.Subcommands.Add(UsersCommand.Build(OpenStoreAsync, Options("Data", "Database", "Http", "PublicUrl").Append(ConfigOption)));
        return root;
    }

    /// <summary><c>mailroom streams pause|resume --server ID --stream ID [--reason TEXT]</c>: holds or releases a stream's
    /// delivery directly in the store (the Mailroom extension the API offers as /message-streams/{id}/pause).</summary>
    private static Command Streams()
    {
        var streams = new Command("streams", "Hold or release delivery of a message stream, directly in the configured store.");
        var server = new Option<int>("--server") { Description = "Server ID.", Required = true };
        var stream = new Option<string>("--stream") { Description = "Stream ID (e.g. outbound).", Required = true };
        var reason = new Option<string?>("--reason") { Description = "Why (shown in the stream's Paused.Reason)." };
        foreach (var (verb, help) in new[] { ("pause", "Hold delivery: sends are still accepted and queued."), ("resume", "Release held deliveries.") })
        {
            var command = new Command(verb, help) { server, stream };
            if (verb == "pause")
                command.Options.Add(reason);
            foreach (var o in Options("Data", "Database").Append(ConfigOption))
                command.Options.Add(o);
            command.SetAction(async (parse, ct) =>
            {
                await using var scope = await OpenStoreAsync(parse, ct);
                var service = scope.ServiceProvider.GetRequiredService<MessageStreamService>();
                try
                {
                    var result = verb == "pause"
                        ? await service.PauseAsync(parse.GetValue(server), parse.GetValue(stream)!, parse.GetValue(reason) ?? "Paused by an operator.", ct)
                        : await service.ResumeAsync(parse.GetValue(server), parse.GetValue(stream)!, ct);
                    Console.Out.WriteLine(result.Paused is { } p
                        ? $"Stream '{result.ID}' of server {result.ServerID} is paused since {p.Since:o}: {p.Reason}"
                        : $"Stream '{result.ID}' of server {result.ServerID} is delivering.");
                    return 0;
                }
                catch (MailroomException e)
                {
                    Console.Error.WriteLine(e.Message);
                    return 2;
                }
            });
            streams.Subcommands.Add(command);
        }
        return streams;
    }

    /// <summary><c>mailroom purge [--retention-days N]</c>: one pass of the retention job (hourly in <c>serve</c>) now, on
    /// the configured store, beside running nodes: after lowering the retention, or to measure the purge on a warm store
    /// (bench <c>grown</c>). Deletes what the job would, in the same batches.</summary>
    private static Command Purge()
    {
        var command = new Command("purge", "Run the retention job once now: delete messages, events and bounces older than the retention period.");
        foreach (var o in Options("Data", "Database", "RetentionDays").Append(ConfigOption))
            command.Options.Add(o);
        command.SetAction(async (parse, ct) =>
        {
            await using var scope = await OpenStoreAsync(parse, ct);
            var purged = await scope.ServiceProvider.GetRequiredService<Mailroom.Core.Queue.MessageRetention>().PurgeAsync(ct);
            Console.Out.WriteLine($"Purged {purged} messages past the retention period.");
            return 0;
        });
        return command;
    }

    private static Command Serve()
    {
        var serve = new Command("serve", "Run Mailroom: the HTTP API, SMTP submission and the background workers.");
        foreach (var o in AllSettingOptions.Append(ConfigOption))
            serve.Options.Add(o);
        serve.SetAction(async (parse, ct) =>
        {
            var settings = Resolve(parse);
            var app = MailroomApp.Build(settings);
            await app.RunAsync(ct);
            return 0;
        });
        return serve;
    }

    private static Command Accounts()
    {
        var accounts = new Command("accounts", "Manage accounts directly in the configured store (the server need not run).");
        var name = new Option<string>("--name") { Description = "Account name.", Required = true };
        var email = new Option<string>("--email") { Description = "Account owner's email address.", Required = true };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON object: {\"AccountID\", \"Name\", \"AccountToken\"}." };
        var create = new Command("create", "Create an account and print its account API token.") { name, email, json };
        foreach (var o in Options("Data", "Database").Append(ConfigOption))
            create.Options.Add(o);
        create.SetAction(async (parse, ct) =>
        {
            await using var scope = await OpenStoreAsync(parse, ct);
            try
            {
                var created = await scope.ServiceProvider.GetRequiredService<AccountService>()
                    .CreateAsync(parse.GetValue(name)!, parse.GetValue(email)!, ct);
                if (parse.GetValue(json))
                    Console.Out.WriteLine(JsonSerializer.Serialize(created));
                else
                    Console.Out.WriteLine($"Account {created.AccountID} '{created.Name}' created.\nAccount API token: {created.AccountToken}\nKeep it: it is shown only once.");
                return 0;
            }
            catch (MailroomException e)
            {
                Console.Error.WriteLine(e.Message);
                return 2;
            }
        });

        var list = new Command("list", "List accounts (id, name, email, created).") { json };
        foreach (var o in Options("Data", "Database").Append(ConfigOption))
            list.Options.Add(o);
        list.SetAction(async (parse, ct) =>
        {
            await using var scope = await OpenStoreAsync(parse, ct);
            var all = await scope.ServiceProvider.GetRequiredService<AccountService>().ListAsync(ct);
            if (parse.GetValue(json))
                Console.Out.WriteLine(JsonSerializer.Serialize(all.Select(a => new { AccountID = a.Id, a.Name, a.Email, CreatedAt = new DateTimeOffset(a.CreatedAt) })));
            else
                foreach (var a in all)
                    Console.Out.WriteLine($"{a.Id,6}  {a.Name}  <{a.Email}>  {a.CreatedAt:yyyy-MM-dd HH:mm}Z");
            return 0;
        });
        accounts.Subcommands.Add(create);
        accounts.Subcommands.Add(list);
        return accounts;
    }

    private static Command Dns()
    {
        var check = new Option<bool>("--check") { Description = "Also look each record up and say whether DNS serves it." };
        var dns = new Command("dns", "Print the DNS records to publish for the platform domain (makes the platform DKIM key on first use).") { check };
        foreach (var o in Options("Data", "Database", "PlatformDomain", "Dns").Append(ConfigOption))
            dns.Options.Add(o);
        dns.SetAction(async (parse, ct) =>
        {
            if (Resolve(parse).PlatformDomain is null)
            {
                Console.Error.WriteLine("No platform domain: give --platform-domain (or MAILROOM_PLATFORM_DOMAIN).");
                return 2;
            }
            await using var scope = await OpenStoreAsync(parse, ct);
            var records = scope.ServiceProvider.GetRequiredService<PlatformDnsRecords>();
            var statuses = parse.GetValue(check) ? (await records.CheckAsync(ct)).Records : null;
            var list = await records.ListAsync(ct);
            Console.Out.WriteLine("; DNS records for the Mailroom platform domain, in zone-file syntax (RFC 1035 §5).");
            Console.Out.WriteLine("; TXT values longer than 255 bytes are split into several strings, which DNS joins again.");
            for (var i = 0; i < list.Count; i++)
            {
                var r = list[i];
                Console.Out.WriteLine();
                Console.Out.WriteLine("; " + r.Purpose);
                if (statuses is not null)
                    Console.Out.WriteLine("; live: " + (statuses[i].Live ? "yes" : "NO") + (statuses[i].Detail.Length > 0 ? " (" + statuses[i].Detail + ")" : ""));
                Console.Out.WriteLine(ZoneLine(r));
            }
            return statuses is null || statuses.All(s => s.Live) ? 0 : 1;
        });
        return dns;
    }

    /// <summary>One record in zone-file syntax; a placeholder value is commented out, to be filled in.</summary>
    internal static string ZoneLine(PlatformDnsRecord r)
    {
        var data = r.Type == "TXT" ? string.Join(" ", r.Value.Chunk(255).Select(c => "\"" + new string(c).Replace("\"", "\\\"") + "\"")) : r.Value;
        var line = $"{r.Name}.\t3600\tIN\t{r.Type}\t{data}";
        return r.Value.StartsWith('<') ? "; " + line : line;
    }

    private static async Task<AsyncServiceScope> OpenStoreAsync(ParseResult parse, CancellationToken ct)
    {
        var services = new ServiceCollection().AddLogging().AddMailroomCore(Resolve(parse)).BuildServiceProvider();
        var scope = services.CreateAsyncScope();
        // Under the setup lock, like `serve`: a command may meet nodes starting on the same new database.
        await using (await DatabaseSetup.SetupLockAsync(scope.ServiceProvider.GetRequiredService<DatabaseSettings>(), ct))
        {
            await Mailroom.Operations.SchemaGuard.CheckAsync(scope.ServiceProvider.GetRequiredService<MailroomDb>(), ct);
            await DatabaseSetup.MigrateAsync(scope.ServiceProvider.GetRequiredService<MailroomDb>(), ct);
            scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.DataProtection.IDataProtectionProvider>()
                .CreateProtector("Mailroom.Startup").Protect([1]);
        }
        return scope;
    }

    private static MailroomSettings Resolve(ParseResult parse)
    {
        var cli = new Dictionary<string, string?>();
        foreach (var (key, option) in SettingOptions)
            cli[key] = option is Option<bool> flag ? Flag(parse, flag) : Value(parse, (Option<string?>)option);
        return MailroomSettings.Resolve(cli, Value(parse, ConfigOption));
    }

    /// <summary>A switch given on the command line is "true"; absent, the environment or file decides.</summary>
    private static string? Flag(ParseResult parse, Option<bool> option)
    {
        try { return parse.GetValue(option) ? "true" : null; }
        catch (InvalidOperationException) { return null; } // option not on this command
    }

    private static string? Value(ParseResult parse, Option<string?> option)
    {
        try { return parse.GetValue(option); }
        catch (InvalidOperationException) { return null; } // option not on this command
    }
}
