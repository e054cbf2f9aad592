using System;
using System.Collections.Generic;

namespace HcToken.Tests
{
    /// <summary>Runs named tests in order, one line each, and keeps the tally.</summary>
    internal sealed class TestRunner
    {
        private readonly List<KeyValuePair<string, Action>> tests = new List<KeyValuePair<string, Action>>();

        internal int Passed { get; private set; }

        internal int Failed { get; private set; }

        internal void Add(string name, Action test)
        {
            tests.Add(new KeyValuePair<string, Action>(name, test));
        }

        internal void RunAll()
        {
            foreach (KeyValuePair<string, Action> test in tests)
            {
                try
                {
                    test.Value();
                    Passed++;
                    Console.WriteLine("ok     " + test.Key);
                }
                catch (TestFailure failure)
                {
                    Failed++;
                    Console.WriteLine("FAILED " + test.Key + ": " + failure.Message);
                }
                catch (Exception unexpected)
                {
                    Failed++;
                    Console.WriteLine("FAILED " + test.Key + ": unexpected " + unexpected.GetType().Name + ": " + unexpected.Message);
                }
            }
        }
    }
}
