using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using HcToken.Native;

namespace HcToken.Tests
{
    /// <summary>Every P/Invoke declaration of NativeMethods matches its prototype in include/hctoken.h.</summary>
    internal static class HeaderTests
    {
        // C type of the header (without struct/enum, spaces removed) and the C# types that may bind it.
        private static readonly Dictionary<string, Type[]> CToCSharp = new Dictionary<string, Type[]>
        {
            { "void", new[] { typeof(void) } },
            { "hct_status", new[] { typeof(int) } },
            { "int", new[] { typeof(int) } },
            { "uint32_t", new[] { typeof(uint) } },
            { "int64_t", new[] { typeof(long) } },
            { "size_t", new[] { typeof(UIntPtr) } },
            { "constchar*", new[] { typeof(IntPtr), typeof(byte[]) } },
            { "char*", new[] { typeof(IntPtr) } },
            { "char**", new[] { typeof(IntPtr).MakeByRefType() } },
            { "hct_config*", new[] { typeof(ConfigHandle), typeof(IntPtr) } },
            { "consthct_config*", new[] { typeof(ConfigHandle) } },
            { "hct_client*", new[] { typeof(IntPtr) } },
            { "consthct_client*", new[] { typeof(ClientHandle) } },
            { "hct_client**", new[] { typeof(ClientHandle).MakeByRefType() } },
            { "consthct_token*", new[] { typeof(IntPtr) } },
            { "hct_token*", new[] { typeof(IntPtr) } },
            { "hct_token**", new[] { typeof(IntPtr).MakeByRefType() } },
            { "hct_log_callback", new[] { typeof(NativeMethods.LogCallback) } },
            { "void*", new[] { typeof(IntPtr) } },
        };

        internal static void Register(TestRunner runner, Fixture fixture)
        {
            runner.Add("every P/Invoke declaration matches include/hctoken.h", () =>
            {
                string header = Environment.GetEnvironmentVariable("HCTOKEN_HEADER");
                Check.True(!string.IsNullOrEmpty(header) && File.Exists(header), "HCTOKEN_HEADER names include/hctoken.h (run-tests.sh sets it)");
                Dictionary<string, string[]> prototypes = Prototypes(File.ReadAllText(header));
                MethodInfo[] methods = typeof(NativeMethods)
                    .GetMethods(BindingFlags.Static | BindingFlags.NonPublic)
                    .Where(m => m.GetCustomAttributes(typeof(DllImportAttribute), false).Length > 0)
                    .ToArray();
                var expected = new[]
                {
                    "hct_version_number", "hct_client_get", "hct_token_value", "hct_token_length", "hct_token_expires_in_ms",
                    "hct_token_scope", "hct_token_type", "hct_token_free", "hct_client_stats_json", "hct_config_set_log_callback",
                };
                foreach (string name in expected)
                {
                    Check.True(methods.Any(m => m.Name == name), name + " is declared");
                }

                foreach (MethodInfo method in methods)
                {
                    string[] c;
                    Check.True(prototypes.TryGetValue(method.Name, out c), method.Name + " is in the header");
                    ParameterInfo[] parameters = method.GetParameters();
                    Check.Equal(c.Length - 1, parameters.Length, method.Name + " parameter count");
                    Check.True(Accepts(c[0], method.ReturnType), method.Name + " returns " + c[0] + ", declared " + method.ReturnType);
                    for (int i = 0; i < parameters.Length; i++)
                    {
                        Check.True(Accepts(c[i + 1], parameters[i].ParameterType), method.Name + " parameter " + i + " is " + c[i + 1] + ", declared " + parameters[i].ParameterType);
                    }
                }
            });
        }

        private static bool Accepts(string cType, Type declared)
        {
            Type[] allowed;
            return CToCSharp.TryGetValue(cType, out allowed) && allowed.Contains(declared);
        }

        // name -> [result type, parameter types...], types normalized as in CToCSharp.
        private static Dictionary<string, string[]> Prototypes(string text)
        {
            text = Regex.Replace(text, @"/\*.*?\*/", " ", RegexOptions.Singleline);
            text = Regex.Replace(text, @"//[^\n]*", " ");
            text = Regex.Replace(text, @"^\s*#[^\n]*", " ", RegexOptions.Multiline);
            var result = new Dictionary<string, string[]>();
            foreach (Match match in Regex.Matches(text, @"([\w\s\*]+?)\b(hct_\w+)\s*\(([^)]*)\)\s*;"))
            {
                string resultType = match.Groups[1].Value;
                if (resultType.Contains("typedef"))
                {
                    continue;
                }

                var types = new List<string> { Normalize(resultType.Split(';').Last().Split('}').Last()) };
                foreach (string parameter in match.Groups[3].Value.Split(','))
                {
                    string p = parameter.Trim();
                    if (p.Length == 0 || p == "void")
                    {
                        continue;
                    }

                    types.Add(Normalize(Regex.Replace(p, @"\w+$", string.Empty)));
                }

                result[match.Groups[2].Value] = types.ToArray();
            }

            return result;
        }

        private static string Normalize(string cType)
        {
            cType = Regex.Replace(cType, @"\b(struct|enum)\s+", string.Empty);
            return Regex.Replace(cType, @"\s+", string.Empty);
        }
    }
}
