using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Mailroom.Core.Storage;
using Npgsql;

namespace Mailroom.Bench;

/// <summary>
/// The real Mailroom, started from its Release build as a child process (<c>dotnet mailroom.dll serve</c>) on a
/// free loopback port with a temp data folder and, for PostgreSQL, a fresh database; nothing is built here.
/// <see cref="DisposeAsync"/> kills the process tree, drops the database and deletes the temp folder.
/// </summary>
public sealed class MailroomProcess : IAsyncDisposable
{
    private readonly string _dotnet;
    private readonly string _dll;
    private readonly string _tempDir;
    private readonly string? _database;        // connection string of the fresh PostgreSQL database
    /// <summary>The PostgreSQL connection string Mailroom runs on, or null on SQLite (the file is DataDirectory/mailroom.db).</summary>
    public string? DatabaseConnection => _database;
    private readonly string? _adminConnection; // the --postgres connection, to drop it afterwards
    private readonly string? _databaseName;
    private readonly bool _keep;
    private readonly StreamWriter _log;
    private Process? _process;
    private IReadOnlyList<string> _extraServeArgs = [];
    /// <summary>CPU the process is pinned to with <c>taskset -c</c> (Linux), or null.</summary>
    private int? _cpu;

    public Uri BaseAddress { get; }
    public string DataDirectory { get; }
    public string LogPath { get; }
    public string Store => _database is null ? "SQLite" : $"PostgreSQL (database {_databaseName})";
    public Process? Process => _process;
    public string Dll => _dll;

    private MailroomProcess(string dotnet, string dll, string tempDir, int port, string? database, string? admin, string? dbName, bool keep)
    {
        _dotnet = dotnet;
        _dll = dll;
        _tempDir = tempDir;
        _database = database;
        _adminConnection = admin;
        _databaseName = dbName;
        _keep = keep;
        DataDirectory = Path.Combine(tempDir, "data");
        LogPath = Path.Combine(tempDir, "mailroom.log");
        _log = new StreamWriter(LogPath) { AutoFlush = true };
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
    }

    /// <summary>Starts Mailroom and waits until <c>GET /health</c> answers 200.</summary>
    /// <param name="repo">Checkout root (holds Mailroom.slnx); found from here or the working folder when null.</param>
    /// <param name="dll">mailroom.dll to run; default <c>src/Mailroom/bin/Release/net10.0/mailroom.dll</c>.</param>
    /// <param name="postgres">A PostgreSQL connection (server + credentials); a fresh database is created in it.</param>
    public static async Task<MailroomProcess> StartAsync(string? repo, string? dll, string? postgres, bool keep, CancellationToken ct,
        IReadOnlyList<string>? extraServeArgs = null)
    {
        dll ??= Path.Combine(repo ?? FindRepo(), "src", "Mailroom", "bin", "Release", "net10.0", "mailroom.dll");
        dll = Path.GetFullPath(dll);
        if (!File.Exists(dll))
            throw new BenchException($"{dll} not found: build Mailroom first (dotnet build -c Release Mailroom.slnx)");
        var dotnet = FindDotnet();

        string? database = null, admin = null, dbName = null;
        if (postgres is not null)
        {
            admin = DatabaseSettings.NormalizePostgres(postgres);
            dbName = $"mailroom_bench_{DateTime.UtcNow:yyyyMMddHHmmss}_{Environment.ProcessId}";
            await using (var conn = new NpgsqlConnection(admin))
            {
                await conn.OpenAsync(ct);
                await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{dbName}\"", conn);
                await cmd.ExecuteNonQueryAsync(ct);
            }
            database = new NpgsqlConnectionStringBuilder(admin) { Database = dbName }.ConnectionString;
        }

        var temp = Directory.CreateTempSubdirectory("mailroom-bench-").FullName;
        var m = new MailroomProcess(dotnet, dll, temp, FreePort(), database, admin, dbName, keep) { _extraServeArgs = extraServeArgs ?? [] };
        try
        {
            m.Start();
            await m.WaitHealthyAsync(TimeSpan.FromSeconds(90), ct);
            return m;
        }
        catch
        {
            await m.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts another node on <paramref name="first"/>'s PostgreSQL database (not dropped by this one), with its own
    /// data folder and <paramref name="first"/>'s master key (the nodes share one key ring), pinned to <paramref name="cpu"/>
    /// with <c>taskset</c> when given.</summary>
    public static async Task<MailroomProcess> StartNodeAsync(MailroomProcess first, int? cpu, IReadOnlyList<string> extraServeArgs, CancellationToken ct)
    {
        if (first._database is null)
            throw new BenchException("several nodes need PostgreSQL (--postgres)");
        var temp = Directory.CreateTempSubdirectory("mailroom-bench-node-").FullName;
        var m = new MailroomProcess(first._dotnet, first._dll, temp, FreePort(), first._database, null, null, first._keep)
        {
            _extraServeArgs = [.. extraServeArgs, "--master-key-file", Path.Combine(first.DataDirectory, "master.key")],
            _cpu = cpu,
        };
        try
        {
            m.Start();
            await m.WaitHealthyAsync(TimeSpan.FromSeconds(90), ct);
            return m;
        }
        catch
        {
            await m.DisposeAsync();
            throw;
        }
    }

    private List<string> StoreArgs()
    {
        var args = new List<string> { "--data", DataDirectory };
        if (_database is not null)
            args.AddRange(["--database", _database]);
        return args;
    }

    private ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(_cpu is null ? _dotnet : "taskset")
        {
            WorkingDirectory = _tempDir, // no stray ./mailroom.json is read
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (_cpu is { } cpu)
        {
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(cpu.ToString(System.Globalization.CultureInfo.InvariantCulture));
            psi.ArgumentList.Add(_dotnet);
        }
        psi.ArgumentList.Add(_dll);
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        // Only the command line configures the child: drop MAILROOM_* (e.g. MAILROOM_DATABASE) from the environment.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("MAILROOM_", StringComparison.Ordinal)).ToList())
            psi.Environment.Remove(key);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return psi;
    }

    private void Start()
    {
        var args = new List<string> { "serve", "--http", BaseAddress.ToString().TrimEnd('/') };
        args.AddRange(StoreArgs());
        args.AddRange(_extraServeArgs);
        var p = new Process { StartInfo = StartInfo(args), EnableRaisingEvents = true };
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_log) _log.WriteLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_log) _log.WriteLine(e.Data); };
        if (!p.Start())
            throw new BenchException("could not start Mailroom");
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        _process = p;
        // Last resort if the bench dies without running its finally blocks (unhandled exception).
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillChild();
    }

    /// <summary>Kills the process and starts it again on the same store with <paramref name="extraServeArgs"/>;
    /// returns the time from the new process's start to its first <c>GET /health</c> = 200 (polled every 20 ms).</summary>
    public async Task<TimeSpan> RestartAsync(IReadOnlyList<string> extraServeArgs, CancellationToken ct)
    {
        if (_process is not null)
        {
            KillChild();
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try { await _process.WaitForExitAsync(wait.Token); } catch (OperationCanceledException) { }
            _process.Dispose();
            _process = null;
        }
        _extraServeArgs = extraServeArgs;
        var sw = Stopwatch.StartNew();
        Start();
        await WaitHealthyAsync(TimeSpan.FromSeconds(90), ct, TimeSpan.FromMilliseconds(20));
        return sw.Elapsed;
    }

    /// <summary>Resident set size of the process (Linux /proc/PID/status VmRSS), bytes; 0 if unknown.</summary>
    public long RssBytes()
    {
        try
        {
            if (_process is not { HasExited: false } p)
                return 0;
            foreach (var line in File.ReadLines($"/proc/{p.Id}/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line[6..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or FormatException or UnauthorizedAccessException) { }
        return 0;
    }

    public async Task WaitHealthyAsync(TimeSpan timeout, CancellationToken ct, TimeSpan? poll = null)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (_process is { HasExited: true })
                throw new BenchException($"Mailroom exited with code {_process.ExitCode} before it was healthy:\n{LogTail()}");
            try
            {
                using var res = await http.GetAsync("health", ct);
                if (res.StatusCode == HttpStatusCode.OK)
                    return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested) { }
            if (deadline.Elapsed > timeout)
                throw new BenchException($"GET /health did not answer 200 within {timeout.TotalSeconds:0} s:\n{LogTail()}");
            await Task.Delay(poll ?? TimeSpan.FromMilliseconds(100), ct);
        }
    }

    /// <summary>Runs <c>mailroom accounts create --json</c> on the same store; returns the account token.</summary>
    public async Task<string> CreateAccountAsync(string name, string email, CancellationToken ct)
    {
        var args = new List<string> { "accounts", "create", "--name", name, "--email", email, "--json" };
        args.AddRange(StoreArgs());
        using var p = Process.Start(StartInfo(args)) ?? throw new BenchException("could not start mailroom accounts create");
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        try
        {
            await p.WaitForExitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw;
        }
        var output = await stdout;
        if (p.ExitCode != 0)
            throw new BenchException($"mailroom accounts create failed ({p.ExitCode}): {await stderr}{output}");
        var json = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Last(l => l.StartsWith('{'));
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.GetProperty("AccountToken").GetString()
            ?? throw new BenchException($"no AccountToken in: {json}");
    }

    /// <summary>Runs another <c>mailroom</c> command on the same store; returns its standard output.</summary>
    public async Task<string> CommandAsync(IEnumerable<string> command, CancellationToken ct)
    {
        var args = new List<string>(command);
        args.AddRange(StoreArgs());
        using var p = Process.Start(StartInfo(args)) ?? throw new BenchException("could not start mailroom " + string.Join(' ', command));
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct);
        if (p.ExitCode != 0)
            throw new BenchException($"mailroom {string.Join(' ', command)} failed ({p.ExitCode}): {await stderr}{await stdout}");
        return await stdout;
    }

    public string LogTail(int lines = 30)
    {
        lock (_log)
        {
            _log.Flush();
            using var read = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var all = new StreamReader(read).ReadToEnd().Split('\n');
            return string.Join('\n', all.TakeLast(lines));
        }
    }

    private void KillChild()
    {
        try
        {
            if (_process is { HasExited: false })
                _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException) { }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            KillChild();
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try { await _process.WaitForExitAsync(wait.Token); } catch (OperationCanceledException) { }
            _process.Dispose();
            _process = null;
        }
        lock (_log)
            _log.Dispose();
        if (_keep)
        {
            Console.Error.WriteLine($"kept: {_tempDir}" + (_databaseName is null ? "" : $" and database {_databaseName}"));
            return;
        }
        if (_databaseName is not null && _adminConnection is not null)
        {
            try
            {
                NpgsqlConnection.ClearAllPools();
                await using var conn = new NpgsqlConnection(_adminConnection);
                await conn.OpenAsync();
                await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_databaseName}\" WITH (FORCE)", conn);
                await cmd.ExecuteNonQueryAsync();
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
            {
                Console.Error.WriteLine($"warning: could not drop database {_databaseName}: {e.Message}");
            }
        }
        try { Directory.Delete(_tempDir, recursive: true); }
        catch (IOException e) { Console.Error.WriteLine($"warning: could not delete {_tempDir}: {e.Message}"); }
    }

    public static string FindRepo()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Mailroom.slnx")))
                    return dir.FullName;
        throw new BenchException("Mailroom.slnx not found above the working folder: pass --repo DIR");
    }

    private static string FindDotnet()
    {
        var root = Environment.GetEnvironmentVariable("DOTNET_ROOT");
        if (!string.IsNullOrEmpty(root) && File.Exists(Path.Combine(root, "dotnet")))
            return Path.Combine(root, "dotnet");
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
            if (dir.Length > 0 && File.Exists(Path.Combine(dir, "dotnet")))
                return Path.Combine(dir, "dotnet");
        throw new BenchException("'dotnet' not found on PATH or in DOTNET_ROOT");
    }

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
