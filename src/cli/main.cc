// backspan: observable, deduplicating, encrypted backups.
#include "cli/commands.h"

int main(int argc, char** argv) { return backspan::cli::Main(argc, argv); }
