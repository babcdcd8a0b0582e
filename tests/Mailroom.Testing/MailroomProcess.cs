using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Mailroom.Contracts;
using Mailroom.Core.Storage;
using Npgsql;

namespace Mailroom.Testing;

/// <summary>What a finished process printed.</summary>
public sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError)
{
    public override string ToString() => $"exit code {ExitCode}\n--- stdout ---\n{StandardOutput}\n--- stderr ---\n{StandardError}";
}

/// <summary>The process could not be started, did not become healthy, or one of its commands failed.</summary>
public sealed class MailroomProcessException(string message) : Exception(message);

/// <summary>
/// The real <c>mailroom</c> executable (<c>dotnet mailroom.dll serve</c>) as a separate process on a free loopback port
/// with its own data folder and store, and one-shot commands (<c>accounts create</c>, <c>dns</c>, ...) against the same
/// store. One runner for the tests (the build beside the test assembly; SQLite, or a fresh database on the server
/// <c>MAILROOM_TEST_DATABASE</c> names) and the bench (the Release build; SQLite or a fresh PostgreSQL database it drops
/// afterwards; output to a log file; optionally pinned to one CPU with <c>taskset</c>).
/// </summary>
public sealed class MailroomProcess : IAsyncDisposable
{
    /// <summary>How one process is started; a restart reuses it.</summary>
    private sealed record Launch(string Dotnet, string Dll, string DataDirectory, string? Database, int Port,
        IReadOnlyList<string> ExtraArgs, string WorkingDirectory, string? LogPath, int? Cpu);

    private Launch _launch;
    private readonly StringBuilder _output = new();
    private readonly StreamWriter? _log;
    private Process? _process;
    /// <summary>Folders deleted at dispose (unless kept, or handed to a restarted process).</summary>
    private readonly List<string> _owned = [];
    /// <summary>The database this process created and drops at dispose: the admin connection and its name.</summary>
    private (string Admin, string Name)? _createdDatabase;
    private bool _keep;
    private bool _killed;

    private MailroomProcess(Launch launch)
    {
        _launch = launch;
        if (launch.LogPath is not null)
            _log = new StreamWriter(launch.LogPath) { AutoFlush = true };
        BaseAddress = new Uri($"http://127.0.0.1:{launch.Port}/");
    }

    public string DataDirectory => _launch.DataDirectory;
    /// <summary>The PostgreSQL connection string Mailroom runs on, or null on SQLite (DataDirectory/mailroom.db).</summary>
    public string? Database => _launch.Database;
    public int Port => _launch.Port;
    /// <summary>The mailroom.dll this process runs.</summary>
    public string Dll => _launch.Dll;
    public Process? Process => _process;
    /// <summary>The server's process id (tests read its memory from /proc).</summary>
    public int ProcessId => _process?.Id ?? throw new InvalidOperationException("not started");
    /// <summary>"127.0.0.1:PORT": what the Node client takes as <c>requestHost</c>.</summary>
    public string Host => $"127.0.0.1:{Port}";
    public string BaseUrl => $"http://{Host}";
    public Uri BaseAddress { get; }
    /// <summary>The file the output goes to, or null when it is kept in memory (<see cref="Output"/>).</summary>
    public string? LogPath => _launch.LogPath;
    public string Store => _createdDatabase is { } db ? $"PostgreSQL (database {db.Name})" : Database is null ? "SQLite" : "PostgreSQL";

    /// <summary>Everything the server printed so far (for failure messages).</summary>
    public string Output
    {
        get
        {
            if (_log is null)
                lock (_output) return _output.ToString();
            lock (_log)
            {
                _log.Flush();
                using var read = new FileStream(_launch.LogPath!, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                return new StreamReader(read).ReadToEnd();
            }
        }
    }

    /// <summary>The last lines the server printed.</summary>
    public string LogTail(int lines = 30) => string.Join('\n', Output.Split('\n').TakeLast(lines));

    /// <summary>The mailroom.dll built beside this test assembly's configuration (Debug or Release).</summary>
    public static string MailroomDll
    {
        get
        {
            var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name; // bin/<config>/net10.0
            var dll = Path.Combine(TestPaths.RepoRoot, "src", "Mailroom", "bin", configuration, "net10.0", "mailroom.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException("Build src/Mailroom first: not found", dll);
        }
    }

    // ---- Tests: the build beside the test assembly, the suite's store, output in memory ----

    /// <summary>Starts <c>mailroom serve</c> and waits until <c>GET /health</c> answers 200.</summary>
    public static async Task<MailroomProcess> StartAsync(IEnumerable<string>? extraArgs = null, TimeSpan? timeout = null) =>
        await StartForTestAsync(await TestDatabase.CreateAsync(), data: null, extraArgs, timeout);

    /// <summary>Starts <c>mailroom serve</c> on the given PostgreSQL database (which may not exist yet), with its own data
    /// folder: one node of several sharing that database.</summary>
    public static Task<MailroomProcess> StartNodeAsync(string database, IEnumerable<string>? extraArgs = null, TimeSpan? timeout = null) =>
        StartForTestAsync(database, data: null, extraArgs, timeout);

    /// <summary>Starts <c>mailroom serve</c> on an existing data folder with its SQLite store (e.g. one made by an older
    /// version), whatever database the suite runs on.</summary>
    public static Task<MailroomProcess> StartOnDataFolderAsync(string data, IEnumerable<string>? extraArgs = null, TimeSpan? timeout = null) =>
        StartForTestAsync(database: null, data, extraArgs, timeout);

    private static async Task<MailroomProcess> StartForTestAsync(string? database, string? data, IEnumerable<string>? extraArgs, TimeSpan? timeout)
    {
        data ??= TestPaths.NewTempDirectory("mailroom-proc");
        var server = new MailroomProcess(new Launch(FindDotnet(), MailroomDll, data, database, FreeTcpPort(), [.. extraArgs ?? []],
            TestPaths.RepoRoot, LogPath: null, Cpu: null));
        server._owned.Add(data);
        await server.StartAndWaitAsync(timeout ?? TimeSpan.FromSeconds(90), CancellationToken.None);
        return server;
    }

    /// <summary>Starts <c>mailroom serve</c> again on a killed server's data folder, database and port.</summary>
    public async Task<MailroomProcess> RestartAsync(IEnumerable<string>? extraArgs = null, TimeSpan? timeout = null)
    {
        var server = new MailroomProcess(_launch with { ExtraArgs = [.. extraArgs ?? []] });
        server._owned.AddRange(_owned);
        await server.StartAndWaitAsync(timeout ?? TimeSpan.FromSeconds(90), CancellationToken.None);
        return server;
    }

    // ---- Bench: the Release build, a fresh PostgreSQL database or SQLite, output to a log file, kept on request ----

    /// <summary>Starts Mailroom in a temp folder (data/ and mailroom.log) and waits until <c>GET /health</c> answers 200.</summary>
    /// <param name="repo">Checkout root (holds Mailroom.slnx); found from here or the working folder when null.</param>
    /// <param name="dll">mailroom.dll to run; default <c>src/Mailroom/bin/Release/net10.0/mailroom.dll</c>.</param>
    /// <param name="postgres">A PostgreSQL connection (server + credentials); a fresh database is created in it and dropped
    /// at dispose.</param>
    /// <param name="keep">Keep the temp folder and the database after dispose.</param>
    public static async Task<MailroomProcess> StartAsync(string? repo, string? dll, string? postgres, bool keep, CancellationToken ct,
        IReadOnlyList<string>? extraServeArgs = null)
    {
        dll = Path.GetFullPath(dll ?? Path.Combine(repo ?? TestPaths.FindRepoRoot(), "src", "Mailroom", "bin", "Release", "net10.0", "mailroom.dll"));
        if (!File.Exists(dll))
            throw new MailroomProcessException($"{dll} not found: build Mailroom first (dotnet build -c Release Mailroom.slnx)");
        (string Admin, string Name)? created = null;
        string? database = null;
        if (postgres is not null)
        {
            var admin = DatabaseSettings.NormalizePostgres(postgres);
            var name = $"mailroom_bench_{DateTime.UtcNow:yyyyMMddHHmmss}_{Environment.ProcessId}";
            database = await TestDatabase.CreateAsync(admin, name, ct);
            created = (admin, name);
        }
        var temp = Directory.CreateTempSubdirectory("mailroom-bench-").FullName;
        // The working folder is the temp folder: no stray ./mailroom.json is read.
        var server = new MailroomProcess(new Launch(FindDotnet(), dll, Path.Combine(temp, "data"), database, FreeTcpPort(), extraServeArgs ?? [],
            temp, Path.Combine(temp, "mailroom.log"), Cpu: null))
        { _createdDatabase = created, _keep = keep };
        server._owned.Add(temp);
        await server.StartAndWaitAsync(TimeSpan.FromSeconds(90), ct);
        return server;
    }

    /// <summary>Starts another node on <paramref name="first"/>'s PostgreSQL database (not dropped by this one), with its own
    /// data folder and <paramref name="first"/>'s master key (the nodes share one key ring), pinned to <paramref name="cpu"/>
    /// with <c>taskset</c> when given.</summary>
    public static async Task<MailroomProcess> StartNodeAsync(MailroomProcess first, int? cpu, IReadOnlyList<string> extraServeArgs, CancellationToken ct)
    {
        if (first.Database is null)
            throw new MailroomProcessException("several nodes need PostgreSQL (--postgres)");
        var temp = Directory.CreateTempSubdirectory("mailroom-bench-node-").FullName;
        var server = new MailroomProcess(first._launch with
        {
            DataDirectory = Path.Combine(temp, "data"),
            Port = FreeTcpPort(),
            ExtraArgs = [.. extraServeArgs, "--master-key-file", Path.Combine(first.DataDirectory, "master.key")],
            WorkingDirectory = temp,
            LogPath = Path.Combine(temp, "mailroom.log"),
            Cpu = cpu,
        })
        { _keep = first._keep };
        server._owned.Add(temp);
        await server.StartAndWaitAsync(TimeSpan.FromSeconds(90), ct);
        return server;
    }

    /// <summary>Bench: kills the process and starts it again in place (same store, port, log) with
    /// <paramref name="extraServeArgs"/>; returns the time from the new start to its first <c>GET /health</c> = 200
    /// (polled every 20 ms).</summary>
    public async Task<TimeSpan> RestartAsync(IReadOnlyList<string> extraServeArgs, CancellationToken ct)
    {
        await KillAndForgetAsync();
        _launch = _launch with { ExtraArgs = extraServeArgs };
        var watch = Stopwatch.StartNew();
        Start();
        await WaitHealthyAsync(TimeSpan.FromSeconds(90), ct, TimeSpan.FromMilliseconds(20));
        return watch.Elapsed;
    }

    /// <summary>Resident set size of the process (Linux <c>/proc/PID/status</c> VmRSS), bytes; 0 if unknown.</summary>
    public long RssBytes()
    {
        try
        {
            if (_process is not { HasExited: false } p)
                return 0;
            foreach (var line in File.ReadLines($"/proc/{p.Id}/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or FormatException or UnauthorizedAccessException) { }
        return 0;
    }

    // ---- Both ----

    private async Task StartAndWaitAsync(TimeSpan timeout, CancellationToken ct)
    {
        try
        {
            Start();
            await WaitHealthyAsync(timeout, ct);
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    private List<string> StoreArgs()
    {
        var args = new List<string> { "--data", DataDirectory };
        if (Database is not null)
            args.AddRange(["--database", Database]);
        return args;
    }

    private void Start()
    {
        var args = new List<string> { "serve", "--http", BaseUrl };
        args.AddRange(StoreArgs());
        args.AddRange(_launch.ExtraArgs);
        // Every process gets its own SMTP submission port: the default (127.0.0.1:2525) would collide between
        // processes running side by side.
        if (!args.Contains("--smtp"))
            args.AddRange(["--smtp", $"127.0.0.1:{FreeTcpPort()}"]);
        var process = new Process { StartInfo = MailroomStartInfo(args), EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        if (!process.Start())
            throw new MailroomProcessException("could not start mailroom");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        // Last resort if the host dies without running its finally blocks (unhandled exception).
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillTree();
    }

    /// <summary><c>dotnet mailroom.dll ARGS</c>, behind <c>taskset -c CPU</c> when pinned.</summary>
    private ProcessStartInfo MailroomStartInfo(IEnumerable<string> args) => _launch.Cpu is { } cpu
        ? StartInfo("taskset", ["-c", cpu.ToString(CultureInfo.InvariantCulture), _launch.Dotnet, _launch.Dll, .. args], _launch.WorkingDirectory)
        : StartInfo(_launch.Dotnet, [_launch.Dll, .. args], _launch.WorkingDirectory);

    /// <summary>Waits until <c>GET /health</c> answers 200; fails at once when the process has exited.</summary>
    public async Task WaitHealthyAsync(TimeSpan timeout, CancellationToken ct, TimeSpan? poll = null)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var until = Stopwatch.StartNew();
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (_process is { HasExited: true })
                throw new MailroomProcessException($"mailroom serve exited with code {_process.ExitCode} before it was healthy:\n{LogTail(200)}");
            try
            {
                using var res = await http.GetAsync("health", ct);
                if (res.StatusCode == HttpStatusCode.OK)
                    return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested) { }
            if (until.Elapsed > timeout)
                throw new MailroomProcessException($"mailroom serve did not become healthy within {timeout.TotalSeconds:0} s:\n{LogTail(200)}");
            await Task.Delay(poll ?? TimeSpan.FromMilliseconds(100), ct);
        }
    }

    /// <summary><c>kill -9</c>: the process gets no chance to finish anything. The data folder stays.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true); // SIGKILL on Linux
            await _process.WaitForExitAsync();
        }
        _killed = true;
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    /// <summary><c>kill -TERM</c> (what systemd and docker stop send): a graceful stop. Waits for the exit and returns
    /// its code. The data folder stays.</summary>
    public async Task<int> StopAsync(TimeSpan? timeout = null)
    {
        var process = _process ?? throw new InvalidOperationException("not started");
        if (!process.HasExited && SendSignal(process.Id, 15) != 0)
            throw new InvalidOperationException($"kill -TERM {process.Id} failed: errno {Marshal.GetLastPInvokeError()}");
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(cts.Token);
        _killed = true;
        return process.ExitCode;
    }

    /// <summary>Runs a <c>mailroom</c> command to its end against this server's data folder and database.</summary>
    public Task<ProcessResult> CommandAsync(params string[] args) => CommandAsync(args, CancellationToken.None);

    /// <summary>Runs a <c>mailroom</c> command to its end against this server's data folder and database.</summary>
    public Task<ProcessResult> CommandAsync(IEnumerable<string> args, CancellationToken ct) =>
        RunAsync(MailroomStartInfo([.. args, .. StoreArgs()]), environment: null, timeout: null, ct);

    /// <summary>Runs a <c>mailroom</c> command that must succeed; returns its standard output.</summary>
    public async Task<string> CommandOutputAsync(IEnumerable<string> args, CancellationToken ct)
    {
        var result = await CommandAsync(args, ct);
        return result.ExitCode == 0
            ? result.StandardOutput
            : throw new MailroomProcessException($"mailroom {string.Join(' ', args)} failed: {result}");
    }

    /// <summary>Creates an account with <c>mailroom accounts create --json</c>.</summary>
    public async Task<AccountCreated> CreateAccountAsync(string name = "Acme", string email = "ops@acme.test", CancellationToken ct = default)
    {
        var output = await CommandOutputAsync(["accounts", "create", "--name", name, "--email", email, "--json"], ct);
        var json = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault(l => l.StartsWith('{'));
        return (json is null ? null : JsonSerializer.Deserialize<AccountCreated>(json))
            ?? throw new MailroomProcessException("No JSON from accounts create: " + output);
    }

    /// <summary>Runs any program to its end (bounded by <paramref name="timeout"/>, then killed).</summary>
    public static Task<ProcessResult> RunAsync(string fileName, IEnumerable<string> args, string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null) =>
        RunAsync(StartInfo(fileName, args, workingDirectory ?? TestPaths.RepoRoot), environment, timeout, CancellationToken.None);

    private static async Task<ProcessResult> RunAsync(ProcessStartInfo info, IReadOnlyDictionary<string, string>? environment, TimeSpan? timeout,
        CancellationToken ct)
    {
        using var process = new Process { StartInfo = info };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            process.StartInfo.Environment[key] = value;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var limit = timeout ?? TimeSpan.FromMinutes(3);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(limit);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            ct.ThrowIfCancellationRequested();
            lock (stderr) stderr.AppendLine($"(killed after {limit.TotalSeconds} s)");
        }
        process.WaitForExit(); // drains the redirected streams
        lock (stdout) lock (stderr) return new ProcessResult(process.ExitCode, stdout.ToString(), stderr.ToString());
    }

    private static ProcessStartInfo StartInfo(string fileName, IEnumerable<string> args, string workingDirectory)
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
            info.ArgumentList.Add(a);
        // The child must not pick up a developer's settings (e.g. MAILROOM_DATABASE): only what the caller passes.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("MAILROOM_", StringComparison.Ordinal)).ToList())
            info.Environment.Remove(key);
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return info;
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        if (_log is not null)
            lock (_log) _log.WriteLine(line);
        else
            lock (_output) _output.AppendLine(line);
    }

    private void KillTree()
    {
        try
        {
            if (_process is { HasExited: false })
                _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException) { /* never started or already gone */ }
    }

    public static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindDotnet()
    {
        var root = Environment.GetEnvironmentVariable("DOTNET_ROOT");
        if (!string.IsNullOrEmpty(root) && File.Exists(Path.Combine(root, "dotnet")))
            return Path.Combine(root, "dotnet");
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
            if (dir.Length > 0 && File.Exists(Path.Combine(dir, "dotnet")))
                return Path.Combine(dir, "dotnet");
        return "dotnet";
    }

    /// <summary>Kills the process tree, if any, waits up to 10 s for it to exit and forgets it.</summary>
    private async Task KillAndForgetAsync()
    {
        if (_process is null)
            return;
        KillTree();
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try { await _process.WaitForExitAsync(wait.Token); } catch (OperationCanceledException) { }
        _process.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAndForgetAsync();
        if (_log is not null)
            lock (_log) _log.Dispose();
        if (_keep)
        {
            Console.Error.WriteLine($"kept: {string.Join(", ", _owned)}" + (_createdDatabase is { } kept ? $" and database {kept.Name}" : ""));
            return;
        }
        if (_createdDatabase is { } db)
            await TestDatabase.DropAsync(db.Admin, db.Name);
        if (_killed)
            return; // a restarted server owns the data folder now
        foreach (var folder in _owned)
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
