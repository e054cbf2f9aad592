using System;

namespace HcToken.Tests
{
    /// <summary>Assertions that throw <see cref="TestFailure"/> with a message saying what differed.</summary>
    internal static class Check
    {
        internal static void True(bool condition, string what)
        {
            if (!condition)
            {
                throw new TestFailure(what);
            }
        }

        internal static void Equal<T>(T expected, T actual, string what)
        {
            if (!Equals(expected, actual))
            {
                throw new TestFailure(what + ": expected " + Show(expected) + ", got " + Show(actual));
            }
        }

        internal static TException Throws<TException>(Action action, string what)
            where TException : Exception
        {
            try
            {
                action();
            }
            catch (TException expected)
            {
                if (expected.GetType() != typeof(TException))
                {
                    throw new TestFailure(what + ": expected exactly " + typeof(TException).Name + ", got " + expected.GetType().Name + ": " + expected.Message);
                }

                return expected;
            }
            catch (Exception other)
            {
                throw new TestFailure(what + ": expected " + typeof(TException).Name + ", got " + other.GetType().Name + ": " + other.Message);
            }

            throw new TestFailure(what + ": expected " + typeof(TException).Name + ", nothing was thrown");
        }

        /// <summary>The secret must not show in the message, nor anywhere in the exception's text.</summary>
        internal static void DoesNotReveal(Exception exception, string secret)
        {
            True(exception.ToString().IndexOf(secret, StringComparison.Ordinal) < 0, "the exception text reveals the secret");
        }

        internal static void Contains(string needle, string haystack, string what)
        {
            if (haystack == null || haystack.IndexOf(needle, StringComparison.Ordinal) < 0)
            {
                throw new TestFailure(what + ": expected text containing " + Show(needle) + ", got " + Show(haystack));
            }
        }

        internal static void LooksLikeJwt(string token)
        {
            True(!string.IsNullOrEmpty(token), "the token is empty");
            Equal(3, token.Split('.').Length, "number of dot-separated parts in the token");
            True(!token.StartsWith("Bearer", StringComparison.OrdinalIgnoreCase), "the token carries a Bearer prefix");
        }

        private static string Show(object value)
        {
            return value == null ? "null" : "'" + value + "'";
        }
    }

    internal sealed class TestFailure : Exception
    {
        internal TestFailure(string message)
            : base(message)
        {
        }
    }
}
