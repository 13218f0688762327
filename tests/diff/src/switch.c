/* A switch over dense cases (a jump table at -O2): a small stack-machine interpreter
 * running a program that computes primes, plus a state machine that scans text. */
#include "rt.h"

enum op { PUSH, LOAD, STORE, ADD, SUB, MUL, MOD, LT, JZ, JMP, PRINT, INC, HALT, DUP, NEG, NOP };

/* Prints the primes below 50 by trial division: n in variable 0, d in variable 1. */
static const i64 program[] = {
    PUSH, 2, STORE, 0,             /*  0: n = 2 */
    LOAD, 0, PUSH, 50, LT, JZ, 46, /*  4: loop: if !(n < 50) goto end */
    PUSH, 2, STORE, 1,             /* 11: d = 2 */
    LOAD, 0, LOAD, 1, LOAD, 1, MUL, LT, JZ, 27, JMP, 39, /* 15: if n < d*d goto prime */
    LOAD, 0, LOAD, 1, MOD, JZ, 42, /* 27: if n % d == 0 goto next */
    INC, 1, JMP, 15,               /* 34: d++, goto 15 */
    HALT,                          /* 38 */
    LOAD, 0, PRINT,                /* 39: prime: print n */
    INC, 0, JMP, 4,                /* 42: next: n++, goto loop */
    HALT,                          /* 46: end */
};

static i64 run(const i64 *code, int len, u64 *steps) {
  i64 stack[16], vars[4] = {0};
  int sp = 0, pc = 0;
  for (; *steps < 100000; (*steps)++) {
    if (pc < 0 || pc >= len || sp < 0 || sp > 14) return -1;
    i64 t;
    switch ((enum op)code[pc++]) {
    case PUSH: stack[sp++] = code[pc++]; break;
    case LOAD: stack[sp++] = vars[code[pc++] & 3]; break;
    case STORE: vars[code[pc++] & 3] = stack[--sp]; break;
    case ADD: sp--; stack[sp - 1] += stack[sp]; break;
    case SUB: sp--; stack[sp - 1] -= stack[sp]; break;
    case MUL: sp--; stack[sp - 1] *= stack[sp]; break;
    case MOD: sp--; stack[sp - 1] %= stack[sp]; break;
    case LT: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
    case JZ: t = code[pc++]; if (stack[--sp] == 0) pc = (int)t; break;
    case JMP: pc = (int)code[pc]; break;
    case PRINT: put_i64(stack[--sp]); put_char(' '); break;
    case INC: vars[code[pc++] & 3]++; break;
    case HALT: return vars[0];
    case DUP: stack[sp] = stack[sp - 1]; sp++; break;
    case NEG: stack[sp - 1] = -stack[sp - 1]; break;
    case NOP: break;
    default: return -2;
    }
  }
  return -3;
}

/* Classifies characters with a switch over ranges and cases. */
static int classify(char c) {
  switch (c) {
  case ' ': case '\t': case '\n': return 0;
  case '0': case '1': case '2': case '3': case '4':
  case '5': case '6': case '7': case '8': case '9': return 1;
  case '+': case '-': case '*': case '/': case '%': case '=': return 2;
  case '(': case ')': case '[': case ']': case '{': case '}': return 3;
  default: return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ? 4 : 5;
  }
}

static const char *const class_names[] = {"space", "digit", "operator", "bracket", "letter", "other"};

int main(int argc, char **argv) {
  (void)argc, (void)argv;
  u64 steps = 0;
  i64 result = run(program, sizeof program / sizeof program[0], &steps);
  put_nl();
  put_kv("vm_result", result);
  put_kv("vm_steps", (i64)steps);
  const char *text = "x1 = (y_2 + 34) * z[5] % 7; // done!";
  int counts[6] = {0};
  int tokens = 0, prev = -1;
  for (const char *p = text; *p; p++) {
    int k = classify(*p);
    counts[k]++;
    if (k != prev && k != 0) tokens++;
    prev = k;
  }
  for (int k = 0; k < 6; k++) {
    put_str(class_names[k]);
    put_char('=');
    put_i64(counts[k]);
    put_char(k == 5 ? '\n' : ' ');
  }
  put_kv("tokens", tokens);
  return tokens;
}
