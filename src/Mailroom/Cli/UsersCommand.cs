using System.CommandLine;
using System.Text.Json;
using Mailroom.Web;

namespace Mailroom.Cli;

/// <summary>
/// <c>mailroom users create --account ID --email EMAIL --role owner|admin|member [--server ID]... [--access read|full]</c>
/// makes a web app user and prints a one-time link to set its password (valid 3 days; only its hash is stored).
/// <c>mailroom users reset --email EMAIL</c> prints a new link; <c>mailroom users list --account ID</c> lists them.
/// </summary>
internal static class UsersCommand
{
    public static Command Build(Func<ParseResult, CancellationToken, Task<AsyncServiceScope>> openStore, IEnumerable<Option> storeOptions)
    {
        var storeOpts = storeOptions.ToList();
        var users = new Command("users", "Manage web app users directly in the configured store (the server need not run).");
        var account = new Option<int>("--account") { Description = "Account ID.", Required = true };
        var email = new Option<string>("--email") { Description = "The user's email address (its sign-in name).", Required = true };
        var role = new Option<string>("--role") { Description = "owner or admin (every server), member (the --server ones).", Required = true };
        role.AcceptOnlyFromAmong("owner", "admin", "member");
        var server = new Option<int[]>("--server") { Description = "A server a member may open (repeat for several).", AllowMultipleArgumentsPerToken = true };
        var access = new Option<string>("--access") { Description = "A member's access to its servers: read (default) or full.", DefaultValueFactory = _ => "read" };
        access.AcceptOnlyFromAmong("read", "full");
        var json = new Option<bool>("--json") { Description = "Print one JSON object: {UserId, AccountId, Email, Role, SetPasswordLink, ExpiresAt}." };

        var create = Subcommand("create", "Create a web app user and print its one-time set-password link.", [account, email, role, server, access, json],
            async (parse, service, ct) =>
            {
                var r = Enum.Parse<WebRole>(parse.GetValue(role)!, ignoreCase: true);
                var full = parse.GetValue(access) == "full";
                var created = await service.CreateAsync(parse.GetValue(account), parse.GetValue(email)!, r,
                    (parse.GetValue(server) ?? []).Distinct().Select(id => (id, full)).ToList(), ct);
                Print(created, parse.GetValue(json));
            });

        var reset = Subcommand("reset", "Print a new one-time set-password link for a user (a forgotten password).", [email, json],
            async (parse, service, ct) => Print(await service.ResetLinkAsync(parse.GetValue(email)!, ct), parse.GetValue(json)));

        var list = Subcommand("list", "List the web app users of an account.", [account], async (parse, service, ct) =>
        {
            foreach (var u in await service.ListAsync(parse.GetValue(account), ct))
                Console.Out.WriteLine($"{u.Id,6}  {u.Email}  {u.Role.ToString().ToLowerInvariant()}" +
                    (u.Role == WebRole.Member ? "  servers: " + string.Join(",", u.Servers.Select(s => $"{s.ServerId}{(s.CanWrite ? ":full" : ":read")}")) : "") +
                    (u.PasswordHash is null ? "  (password not set)" : ""));
        });

        // Each subcommand opens the store, gets the service, and answers a refusal (bad input, unknown user) with its
        // message on stderr and exit code 2; 0 is success.
        Command Subcommand(string name, string description, Option[] options, Func<ParseResult, WebUserService, CancellationToken, Task> run)
        {
            var command = new Command(name, description);
            foreach (var o in options.Concat(storeOpts))
                command.Options.Add(o);
            command.SetAction(async (parse, ct) =>
            {
                await using var scope = await openStore(parse, ct);
                var service = ActivatorUtilities.CreateInstance<WebUserService>(scope.ServiceProvider);
                try
                {
                    await run(parse, service, ct);
                    return 0;
                }
                catch (MailroomException e)
                {
                    await Console.Error.WriteLineAsync(e.Message);
                    return 2;
                }
            });
            return command;
        }

        users.Subcommands.Add(create);
        users.Subcommands.Add(reset);
        users.Subcommands.Add(list);
        return users;
    }

    private static void Print(WebUserCreated created, bool json)
    {
        if (json)
            Console.Out.WriteLine(JsonSerializer.Serialize(created));
        else
            Console.Out.WriteLine($"User {created.UserId} <{created.Email}> ({created.Role.ToString().ToLowerInvariant()}) of account {created.AccountId}.\n" +
                $"Set the password within 3 days, once: {created.SetPasswordLink}");
    }
}
