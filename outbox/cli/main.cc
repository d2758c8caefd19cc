// pantau-outbox: see dead_letter_cli.h.
#include <iostream>

#include "dead_letter_cli.h"

int main(int argc, char** argv) {
  return pantau::outbox::cli::Run(argc, argv, std::cout, std::cerr);
}
