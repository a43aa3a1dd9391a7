using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using FileAio.Interop;
using FileAio.Tests.Infrastructure;

namespace FileAio.Tests.Abi;

/// <summary>
/// Pins the Linux AIO declarations against the kernel's own header, <c>&lt;linux/aio_abi.h&gt;</c>, and the system
/// call numbers against <c>&lt;asm/unistd.h&gt;</c>, for this machine's CPU with the native gcc and for the other
/// one with a cross compiler where installed (each missing compiler skips its case with the reason). The iocb's
/// key/rw_flags pair is in byte order, so it is checked on both CPUs.
/// </summary>
public sealed class LinuxAioHeaderTests : FileAioTest
{
    private static readonly (string CStruct, string CMember, Type CsType, string CsField)[] s_members =
    [
        ("iocb", "aio_data", typeof(Iocb), nameof(Iocb.Data)),
        ("iocb", "aio_key", typeof(Iocb), nameof(Iocb.Key)),
        ("iocb", "aio_rw_flags", typeof(Iocb), nameof(Iocb.RwFlags)),
        ("iocb", "aio_lio_opcode", typeof(Iocb), nameof(Iocb.Opcode)),
        ("iocb", "aio_reqprio", typeof(Iocb), nameof(Iocb.ReqPrio)),
        ("iocb", "aio_fildes", typeof(Iocb), nameof(Iocb.Fd)),
        ("iocb", "aio_buf", typeof(Iocb), nameof(Iocb.Buffer)),
        ("iocb", "aio_nbytes", typeof(Iocb), nameof(Iocb.Bytes)),
        ("iocb", "aio_offset", typeof(Iocb), nameof(Iocb.Offset)),
        ("iocb", "aio_reserved2", typeof(Iocb), nameof(Iocb.Reserved2)),
        ("iocb", "aio_flags", typeof(Iocb), nameof(Iocb.Flags)),
        ("iocb", "aio_resfd", typeof(Iocb), nameof(Iocb.ResFd)),
        ("io_event", "data", typeof(IoEvent), nameof(IoEvent.Data)),
        ("io_event", "obj", typeof(IoEvent), nameof(IoEvent.Obj)),
        ("io_event", "res", typeof(IoEvent), nameof(IoEvent.Res)),
        ("io_event", "res2", typeof(IoEvent), nameof(IoEvent.Res2)),
    ];

    private static readonly (string C, long CSharp)[] s_constants =
    [
        ("sizeof(struct iocb)", Unsafe.SizeOf<Iocb>()),
        ("sizeof(struct io_event)", Unsafe.SizeOf<IoEvent>()),
        ("IOCB_CMD_PREAD", LinuxAioConstants.IOCB_CMD_PREAD),
        ("IOCB_CMD_PWRITE", LinuxAioConstants.IOCB_CMD_PWRITE),
        ("IOCB_CMD_FSYNC", LinuxAioConstants.IOCB_CMD_FSYNC),
        ("IOCB_CMD_FDSYNC", LinuxAioConstants.IOCB_CMD_FDSYNC),
        ("IOCB_CMD_PREADV", LinuxAioConstants.IOCB_CMD_PREADV),
        ("IOCB_CMD_PWRITEV", LinuxAioConstants.IOCB_CMD_PWRITEV),
        ("IOCB_FLAG_RESFD", LinuxAioConstants.IOCB_FLAG_RESFD),
    ];

    private readonly ITestOutputHelper _output;

    public LinuxAioHeaderTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData("gcc")]
    [InlineData("aarch64-linux-gnu-gcc")]
    [InlineData("x86_64-linux-gnu-gcc")]
    public void LinuxAioDeclarations_MatchTheKernelHeadersTheCompilerSees(string compiler)
    {
        Require.Linux();
        string? gcc = CHeaderFacts.FindOnPath(compiler);
        Assert.SkipWhen(gcc is null, $"{compiler} is not installed (not on PATH): that CPU's Linux AIO numbers were checked "
            + "only by this machine's own run (Debian: gcc, gcc-aarch64-linux-gnu, gcc-x86-64-linux-gnu with linux-libc-dev*).");
        var facts = new List<(string C, long CSharp)>(s_constants);
        foreach ((string cStruct, string cMember, Type csType, string csField) in s_members)
        {
            facts.Add(($"offsetof(struct {cStruct}, {cMember})", (long)Marshal.OffsetOf(csType, csField)));
            facts.Add(($"sizeof(((struct {cStruct} *)0)->{cMember})", Marshal.SizeOf(csType.GetField(csField)!.FieldType)));
        }
        var prologue = new StringBuilder();
        prologue.AppendLine("#include <stddef.h>");
        prologue.AppendLine("#include <linux/aio_abi.h>");
        prologue.AppendLine("#include <asm/unistd.h>");
        prologue.AppendLine("#if defined(__x86_64__)");
        prologue.AppendLine("#define FILEAIO_CPU 1");
        prologue.AppendLine("#elif defined(__aarch64__)");
        prologue.AppendLine("#define FILEAIO_CPU 2");
        prologue.AppendLine("#else");
        prologue.AppendLine("#error FILEAIO_OTHER_CPU");
        prologue.AppendLine("#endif");
        string[] syscalls = ["__NR_io_setup", "__NR_io_destroy", "__NR_io_submit", "__NR_io_cancel", "__NR_io_getevents"];

        CHeaderFacts.Result result = CHeaderFacts.Evaluate(gcc!, "", prologue.ToString(),
            new[] { "FILEAIO_CPU" }.Concat(syscalls).Concat(facts.Select(f => f.C)), Directory);
        Assert.SkipWhen(result.Values is null && result.Output.Contains("No such file", StringComparison.Ordinal),
            $"The kernel's headers for {compiler} are not installed: " + result.Output);
        Assert.True(result.Values is not null, $"{compiler} failed:\n" + result.Output);
        IReadOnlyList<long> values = result.Values!;
        Assert.Equal(1 + syscalls.Length + facts.Count, values.Count);
        bool arm64 = values[0] == 2;
        _output.WriteLine($"{compiler}: {result.Target}, {(arm64 ? "arm64" : "x86-64")}, {facts.Count} layout facts");

        long[] expectedNumbers = arm64
            ? [LinuxAioSyscalls.Arm64.IoSetup, LinuxAioSyscalls.Arm64.IoDestroy, LinuxAioSyscalls.Arm64.IoSubmit, LinuxAioSyscalls.Arm64.IoCancel, LinuxAioSyscalls.Arm64.IoGetevents]
            : [LinuxAioSyscalls.X64.IoSetup, LinuxAioSyscalls.X64.IoDestroy, LinuxAioSyscalls.X64.IoSubmit, LinuxAioSyscalls.X64.IoCancel, LinuxAioSyscalls.X64.IoGetevents];
        var mismatches = new List<string>();
        for (int i = 0; i < syscalls.Length; i++)
        {
            if (values[1 + i] != expectedNumbers[i])
            {
                mismatches.Add($"{syscalls[i]}: header {values[1 + i]}, C# {expectedNumbers[i]}");
            }
        }
        for (int i = 0; i < facts.Count; i++)
        {
            long header = values[1 + syscalls.Length + i];
            if (header != facts[i].CSharp)
            {
                mismatches.Add($"{facts[i].C}: header {header}, C# {facts[i].CSharp}");
            }
        }
        Assert.True(mismatches.Count == 0, $"Declarations that differ from the headers of {result.Target}:\n" + string.Join('\n', mismatches));
    }
}
