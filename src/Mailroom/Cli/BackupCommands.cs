using System.CommandLine;
using Mailroom.Operations;

namespace Mailroom.Cli;

/// <summary><c>mailroom backup --to FILE</c> and <c>mailroom restore --from FILE --data DIR</c> (see <see cref="StoreBackup"/>).</summary>
public static partial class MailroomCommandLine
{
    private static Command Backup()
    {
        var to = new Option<string>("--to") { Description = "Archive to write (.tar.gz).", Required = true, HelpName = "FILE" };
        var command = new Command("backup", "Copy the store (SQLite, online), the key ring and the data folder's secrets into one archive while Mailroom runs.") { to };
        foreach (var o in Options("Data", "Database", "MasterKeyFile").Append(ConfigOption))
            command.Options.Add(o);
        command.SetAction(async (parse, ct) =>
        {
            var settings = Resolve(parse);
            try
            {
                var entries = await StoreBackup.BackupAsync(settings, parse.GetValue(to)!, ct);
                parse.InvocationConfiguration.Output.WriteLine($"Backup written to {Path.GetFullPath(parse.GetValue(to)!)}: {string.Join(", ", entries)}");
                if (settings.DatabaseSettings.IsPostgres)
                    parse.InvocationConfiguration.Output.WriteLine("The store is PostgreSQL: dump it with pg_dump as well (docs/operations.md); this archive holds the key ring and files only.");
                if (settings.MasterKey is not null || (settings.MasterKeyFile is { } f && !Path.GetFullPath(f).StartsWith(Path.GetFullPath(settings.DataDirectory) + Path.DirectorySeparatorChar, StringComparison.Ordinal)))
                    parse.InvocationConfiguration.Output.WriteLine("The master key lives outside the data folder and is not in the archive: keep a copy of it apart; the archive cannot be read without it.");
                return 0;
            }
            catch (InvalidOperationException e)
            {
                parse.InvocationConfiguration.Error.WriteLine(e.Message);
                return 2;
            }
        });
        return command;
    }

    private static Command Restore()
    {
        var from = new Option<string>("--from") { Description = "Archive written by mailroom backup.", Required = true, HelpName = "FILE" };
        var data = new Option<string>("--data") { Description = "Data folder to restore into; it must be new or empty.", Required = true, HelpName = "DIR" };
        var command = new Command("restore", "Unpack a backup into a new data folder (PostgreSQL stores: restore the pg_dump separately).") { from, data };
        command.SetAction(async (parse, ct) =>
        {
            try
            {
                var entries = await StoreBackup.RestoreAsync(parse.GetValue(from)!, parse.GetValue(data)!, ct);
                parse.InvocationConfiguration.Output.WriteLine($"Restored into {Path.GetFullPath(parse.GetValue(data)!)}: {string.Join(", ", entries)}");
                return 0;
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or InvalidDataException)
            {
                parse.InvocationConfiguration.Error.WriteLine(e.Message);
                return 2;
            }
        });
        return command;
    }
}
