/* Strings: length, comparison, reversal, number parsing and formatting, word counting,
 * palindromes and a Caesar cipher, on bytes in .rodata, .data and the stack. */
#include "rt.h"

static const char *const words[] = {"kernel", "capability", "", "a", "racecar", "Trap", "trap",
                                    "page table", "RISC-V", "x86-64"};
static char message[] = "The quick brown fox jumps over the lazy dog";

static int str_cmp(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return (u8)*a - (u8)*b;
}

static void reverse(char *s) {
  size_t n = strlen(s);
  for (size_t i = 0; i < n / 2; i++) {
    char t = s[i];
    s[i] = s[n - 1 - i];
    s[n - 1 - i] = t;
  }
}

static int is_palindrome(const char *s) {
  size_t n = strlen(s);
  for (size_t i = 0; i < n / 2; i++) {
    if (s[i] != s[n - 1 - i]) return 0;
  }
  return 1;
}

static i64 parse(const char *s, int *ok) {
  int neg = 0;
  i64 v = 0;
  *ok = 0;
  if (*s == '-') neg = 1, s++;
  while (*s >= '0' && *s <= '9') v = v * 10 + (*s++ - '0'), *ok = 1;
  if (*s) *ok = 0;
  return neg ? -v : v;
}

static int count_words(const char *s) {
  int n = 0, in = 0;
  for (; *s; s++) {
    int space = *s == ' ';
    if (!space && !in) n++;
    in = !space;
  }
  return n;
}

static void caesar(char *s, int k) {
  for (; *s; s++) {
    if (*s >= 'a' && *s <= 'z') *s = (char)('a' + (*s - 'a' + k) % 26);
    else if (*s >= 'A' && *s <= 'Z') *s = (char)('A' + (*s - 'A' + k) % 26);
  }
}

int main(int argc, char **argv) {
  (void)argc, (void)argv;
  int n = sizeof words / sizeof words[0];
  for (int i = 0; i < n; i++) {
    put_str("[");
    put_str(words[i]);
    put_str("] len=");
    put_i64((i64)strlen(words[i]));
    put_str(" palindrome=");
    put_i64(is_palindrome(words[i]));
    put_str(" cmp_next=");
    int c = str_cmp(words[i], words[(i + 1) % n]);
    put_i64(c < 0 ? -1 : c > 0);
    put_nl();
  }
  char buf[64];
  memcpy(buf, message, sizeof message);
  reverse(buf);
  put_str(buf);
  put_nl();
  put_kv("words", count_words(message));
  caesar(message, 13);
  put_str(message);
  put_nl();
  caesar(message, 13);
  put_str(message);
  put_nl();
  const char *numbers[] = {"0", "42", "-17", "9223372036854775807", "12x", "-", ""};
  for (unsigned i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
    int ok;
    i64 v = parse(numbers[i], &ok);
    put_str(numbers[i]);
    put_str(ok ? " -> " : " -> invalid ");
    put_i64(v);
    put_nl();
  }
  char stack_copy[16];
  memset(stack_copy, '*', sizeof stack_copy - 1);
  stack_copy[sizeof stack_copy - 1] = 0;
  memmove(stack_copy + 2, stack_copy, 5);
  put_str(stack_copy);
  put_nl();
  return count_words(message);
}
