/* Recursion: Fibonacci, Ackermann, the towers of Hanoi, mutual recursion, and a deep
 * recursion that uses a few hundred KiB of stack. */
#include "rt.h"

static u64 fib(int n) { return n < 2 ? (u64)n : fib(n - 1) + fib(n - 2); }

static u64 ackermann(u64 m, u64 n) {
  if (m == 0) return n + 1;
  if (n == 0) return ackermann(m - 1, 1);
  return ackermann(m - 1, ackermann(m, n - 1));
}

static u64 moves;
static void hanoi(int n, int from, int to, int via, u64 *trace) {
  if (n == 0) return;
  hanoi(n - 1, from, via, to, trace);
  moves++;
  *trace = *trace * 7 + (u64)(from * 3 + to);
  hanoi(n - 1, via, to, from, trace);
}

static int is_odd(u64 n);
static int is_even(u64 n) { return n == 0 ? 1 : is_odd(n - 1); }
static int is_odd(u64 n) { return n == 0 ? 0 : is_even(n - 1); }

/* Each frame holds an array, so the stack really grows. */
static u64 deep(int n) {
  volatile u64 frame[8];
  for (int i = 0; i < 8; i++) frame[i] = (u64)n * (u64)i;
  if (n == 0) return 0;
  return frame[n % 8] + deep(n - 1);
}

static u64 gcd(u64 a, u64 b) { return b ? gcd(b, a % b) : a; }

int main(int argc, char **argv) {
  (void)argc, (void)argv;
  for (int i = 0; i <= 24; i += 6) {
    put_str("fib(");
    put_i64(i);
    put_str(")=");
    put_u64(fib(i));
    put_nl();
  }
  put_kv("ackermann(2,3)", (i64)ackermann(2, 3));
  put_kv("ackermann(3,3)", (i64)ackermann(3, 3));
  u64 trace = 0;
  hanoi(12, 1, 3, 2, &trace);
  put_kv("hanoi_moves", (i64)moves);
  put_kx("hanoi_trace", trace);
  put_kv("is_even(1001)", is_even(1001));
  put_kv("is_odd(777)", is_odd(777));
  put_kv("deep(4000)", (i64)deep(4000));
  put_kv("gcd", (i64)gcd(1071 * 977, 462 * 977));
  return (int)(fib(10) % 256);
}
