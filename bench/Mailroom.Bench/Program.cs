using Mailroom.Bench;

// Mailroom load scripts. Each subcommand is a class with a RunAsync(BenchArgs, CancellationToken) entry point;
// the shared pieces are MailroomProcess (start/stop/health/account), LoadRunner (closed-loop clients),
// LatencyHistogram and Report. See bench/README.md.
var commands = new Dictionary<string, (string Help, Func<BenchArgs, CancellationToken, Task<int>> Run)>(StringComparer.Ordinal)
{
    ["api"] = (ApiLoad.Help, ApiLoad.RunAsync),
    ["send"] = (SendLoad.Help, SendLoad.RunAsync),
    ["dkim"] = (DkimLoad.Help, DkimLoad.RunAsync),
    ["webhooks"] = (WebhookLoad.Help, WebhookLoad.RunAsync),
    ["dmarc"] = (DmarcLoad.Help, DmarcLoad.RunAsync),
    ["templates"] = (TemplateLoad.Help, TemplateLoad.RunAsync),
    ["web"] = (WebActivityLoad.Help, WebActivityLoad.RunAsync),
    ["opens"] = (OpensLoad.Help, OpensLoad.RunAsync),
    ["inbound"] = (InboundLoad.Help, InboundLoad.RunAsync),
    ["stats"] = (StatsLoad.Help, StatsLoad.RunAsync),
    ["nodes"] = (NodesLoad.Help, NodesLoad.RunAsync),
    ["grown"] = (GrownLoad.Help, GrownLoad.RunAsync),
};

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine("usage: Mailroom.Bench <command> [options]\n\ncommands:");
    foreach (var (name, c) in commands)
        Console.WriteLine($"  {name,-8} {c.Help.Split('\n')[0]}");
    Console.WriteLine("\n'Mailroom.Bench <command> --help' shows a command's options.");
    return args.Length == 0 ? 2 : 0;
}

if (!commands.TryGetValue(args[0], out var command))
{
    Console.Error.WriteLine($"unknown command '{args[0]}'; try --help");
    return 2;
}

BenchArgs parsed;
try
{
    parsed = BenchArgs.Parse(args[1..]);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
if (parsed.Flag("help") || parsed.Flag("h"))
{
    Console.WriteLine(command.Help);
    return 0;
}

using var shutdown = new Shutdown();
try
{
    return await command.Run(parsed, shutdown.Token);
}
catch (OperationCanceledException) when (shutdown.Token.IsCancellationRequested)
{
    Console.Error.WriteLine("interrupted; cleaned up");
    return 130;
}
catch (Exception e) when (e is BenchException or MailroomProcessException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
