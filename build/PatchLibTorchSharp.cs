// Native-loading fix for TorchSharp 0.107.0 on hosts whose libstdc++ predates GCC 13
// (Debian 12, Ubuntu 22.04). See docs/native-loading.md for the full analysis.
//
// libLibTorchSharp.so declares a version requirement on GLIBCXX_3.4.32 for exactly one symbol,
// std::ios_base_library_init(), which is referenced but never relocated against. The dynamic loader
// still refuses the whole file because the version is missing. Marking that one version requirement
// VER_FLG_WEAK in .gnu.version_r turns the fatal check into a non-fatal one; nothing else changes.
//
// This file is compiled twice: by MSBuild's RoslynCodeTaskFactory (the build task at the bottom)
// and by the test project (with INCRT_ELF_TESTS defined, which leaves the task out).
#nullable enable
using System;
using System.IO;
using System.Text;

namespace Incrt.Build
{
    /// <summary>Outcome of <see cref="ElfVersionPatcher.Patch"/>.</summary>
    public enum ElfPatchOutcome
    {
        /// <summary>The version requirement was found non-weak and has been marked weak.</summary>
        Patched,
        /// <summary>The requirement is already weak: nothing written.</summary>
        AlreadyWeak,
        /// <summary>The file does not require the version at all: nothing written.</summary>
        NotRequired,
        /// <summary>The file is not a well-formed ELF64 little-endian object of the expected shape: nothing written.</summary>
        Malformed,
    }

    /// <summary>Reads and edits the GNU version-requirement table (SHT_GNU_verneed) of an ELF64 file.</summary>
    public static class ElfVersionPatcher
    {
        const uint ShtGnuVerneed = 0x6ffffffe;
        const ushort VerFlgWeak = 0x2;

        /// <summary>
        /// Finds the <c>Vernaux</c> entry named <paramref name="versionName"/> and reports its flags.
        /// Returns <c>null</c> when the file is malformed (with <paramref name="error"/> set) and
        /// <c>-1</c> when the version is not required.
        /// </summary>
        public static int? FindVersionFlags(byte[] elf, string versionName, out long flagsOffset, out string? error)
        {
            flagsOffset = -1;
            error = null;
            try
            {
                return Scan(elf, versionName, out flagsOffset, out error);
            }
            catch (Exception e) when (e is ArgumentOutOfRangeException || e is IndexOutOfRangeException || e is OverflowException || e is ArgumentException)
            {
                error = "structure points outside the file: " + e.Message;
                return null;
            }
        }

        static int? Scan(byte[] b, string versionName, out long flagsOffset, out string? error)
        {
            flagsOffset = -1;
            error = null;
            if (b.Length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F')
            { error = "not an ELF file"; return null; }
            if (b[4] != 2) { error = "not ELF64"; return null; }
            if (b[5] != 1) { error = "not little-endian"; return null; }

            long shoff = checked((long)BitConverter.ToUInt64(b, 0x28));
            int shentsize = BitConverter.ToUInt16(b, 0x3A);
            int shnum = BitConverter.ToUInt16(b, 0x3C);
            if (shoff <= 0 || shentsize != 64 || shnum == 0 || checked(shoff + (long)shentsize * shnum) > b.Length)
            { error = "section header table out of range"; return null; }

            int verneedIndex = -1;
            for (int i = 0; i < shnum; i++)
            {
                if (BitConverter.ToUInt32(b, checked((int)(shoff + i * 64L + 4))) == ShtGnuVerneed)
                {
                    if (verneedIndex >= 0) { error = "more than one SHT_GNU_verneed section"; return null; }
                    verneedIndex = i;
                }
            }
            if (verneedIndex < 0) return -1;

            int sh = checked((int)(shoff + verneedIndex * 64L));
            long vnOff = checked((long)BitConverter.ToUInt64(b, sh + 0x18));
            long vnSize = checked((long)BitConverter.ToUInt64(b, sh + 0x20));
            int link = (int)BitConverter.ToUInt32(b, sh + 0x28);
            long vnCount = checked((long)BitConverter.ToUInt32(b, sh + 0x2C)); // sh_info = number of Verneed entries
            if (checked(vnOff + vnSize) > b.Length || link <= 0 || link >= shnum)
            { error = "SHT_GNU_verneed section out of range"; return null; }

            int strSh = checked((int)(shoff + link * 64L));
            long strOff = checked((long)BitConverter.ToUInt64(b, strSh + 0x18));
            long strSize = checked((long)BitConverter.ToUInt64(b, strSh + 0x20));
            if (checked(strOff + strSize) > b.Length) { error = "string table out of range"; return null; }

            long entry = vnOff;
            for (long n = 0; n < vnCount; n++)
            {
                if (entry + 16 > vnOff + vnSize) { error = "Verneed entry out of range"; return null; }
                ushort vnVersion = BitConverter.ToUInt16(b, (int)entry);
                if (vnVersion != 1) { error = $"unexpected Verneed version {vnVersion}"; return null; }
                int cnt = BitConverter.ToUInt16(b, (int)entry + 2);
                long aux = entry + BitConverter.ToUInt32(b, (int)entry + 8);
                for (int a = 0; a < cnt; a++)
                {
                    if (aux + 16 > vnOff + vnSize) { error = "Vernaux entry out of range"; return null; }
                    long name = BitConverter.ToUInt32(b, (int)aux + 8);
                    if (name >= strSize) { error = "Vernaux name out of range"; return null; }
                    if (NameEquals(b, strOff + name, strOff + strSize, versionName))
                    {
                        flagsOffset = aux + 4;
                        return BitConverter.ToUInt16(b, (int)flagsOffset);
                    }
                    uint next = BitConverter.ToUInt32(b, (int)aux + 12);
                    if (next == 0) break;
                    aux += next;
                }
                uint vnNext = BitConverter.ToUInt32(b, (int)entry + 12);
                if (vnNext == 0) break;
                entry += vnNext;
            }
            return -1;
        }

        static bool NameEquals(byte[] b, long at, long end, string name)
        {
            var bytes = Encoding.ASCII.GetBytes(name);
            if (at + bytes.Length >= end) return false;
            for (int i = 0; i < bytes.Length; i++)
                if (b[at + i] != bytes[i]) return false;
            return b[at + bytes.Length] == 0;
        }

        /// <summary>
        /// Marks the requirement on <paramref name="versionName"/> weak in <paramref name="path"/>, in place and atomically
        /// (temporary file in the same folder, then rename). Idempotent; a malformed file is never written.
        /// </summary>
        public static ElfPatchOutcome Patch(string path, string versionName, out string detail)
        {
            var bytes = File.ReadAllBytes(path);
            var flags = FindVersionFlags(bytes, versionName, out long offset, out var error);
            if (flags is null) { detail = error ?? "malformed"; return ElfPatchOutcome.Malformed; }
            if (flags == -1) { detail = $"{versionName} is not required"; return ElfPatchOutcome.NotRequired; }
            if ((flags.Value & VerFlgWeak) != 0) { detail = $"{versionName} is already weak"; return ElfPatchOutcome.AlreadyWeak; }

            ushort updated = (ushort)(flags.Value | VerFlgWeak);
            bytes[offset] = (byte)(updated & 0xff);
            bytes[offset + 1] = (byte)(updated >> 8);

            string temp = path + ".incrt-patch.tmp";
            try
            {
                File.WriteAllBytes(temp, bytes);
                File.Replace(temp, path, null); // rename over the target: atomic on the same file system
            }
            finally
            {
                if (File.Exists(temp)) File.Delete(temp);
            }
            detail = $"marked {versionName} weak (vna_flags 0x{flags.Value:x} -> 0x{updated:x} at file offset 0x{offset:x})";
            return ElfPatchOutcome.Patched;
        }

        /// <summary>True when some libstdc++.so.6 on this host defines <paramref name="versionName"/>.</summary>
        public static bool HostLibStdCxxHasVersion(string versionName, out string? inspected)
        {
            inspected = null;
            string[] candidates =
            {
                "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
                "/usr/lib64/libstdc++.so.6", "/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
                "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
            };
            var needle = Encoding.ASCII.GetBytes(versionName + "\0");
            foreach (var c in candidates)
            {
                if (!File.Exists(c)) continue;
                inspected = c;
                var data = File.ReadAllBytes(c);
                if (IndexOf(data, needle) >= 0) return true;
                return false;
            }
            return false; // no libstdc++ found where we look: assume the old one, patching is harmless
        }

        static int IndexOf(byte[] haystack, byte[] needle)
        {
            for (int i = 0; i + needle.Length <= haystack.Length; i++)
            {
                int j = 0;
                while (j < needle.Length && haystack[i + j] == needle[j]) j++;
                if (j == needle.Length && (i == 0 || haystack[i - 1] == 0)) return i;
            }
            return -1;
        }
    }

#if !INCRT_ELF_TESTS
    /// <summary>MSBuild task: patches the output copies of libLibTorchSharp.so when the host needs it.</summary>
    public class PatchLibTorchSharp : Microsoft.Build.Utilities.Task
    {
        /// <summary>Files to inspect (output copies, never the NuGet cache).</summary>
        [Microsoft.Build.Framework.Required]
        public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

        /// <summary>auto (patch only if the host lacks the version), always, or never.</summary>
        public string Mode { get; set; } = "auto";

        /// <summary>The version requirement to weaken.</summary>
        public string VersionName { get; set; } = "GLIBCXX_3.4.32";

        /// <inheritdoc />
        public override bool Execute()
        {
            if (string.Equals(Mode, "never", StringComparison.OrdinalIgnoreCase)) return true;
            if (!System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Linux)) return true;
            if (!string.Equals(Mode, "always", StringComparison.OrdinalIgnoreCase)
                && ElfVersionPatcher.HostLibStdCxxHasVersion(VersionName, out _))
                return true;

            foreach (var item in Files)
            {
                string path = Path.GetFullPath(item.ItemSpec);
                if (!File.Exists(path)) continue;
                var outcome = ElfVersionPatcher.Patch(path, VersionName, out var detail);
                switch (outcome)
                {
                    case ElfPatchOutcome.Patched:
                        Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High,
                            $"Incrt: patched {path}: {detail}, because this host's libstdc++ lacks {VersionName} and TorchSharp's native library would not load otherwise.");
                        break;
                    case ElfPatchOutcome.Malformed:
                        Log.LogWarning($"Incrt: left {path} untouched: unexpected ELF structure ({detail}). TorchSharp may fail to load on this host.");
                        break;
                }
            }
            return true;
        }
    }
#endif
}
