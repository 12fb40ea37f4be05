// post(): lock, resolve, apply, record — the single path of every movement.
#include "ledger/books.hpp"

namespace sk::ledger {

std::vector<std::string> post(std::vector<Leg>& legs, const Answer& answer) {
  Books books;
  resolve(legs, books);
  auto crossings = apply(legs, books);
  return record(legs, books, crossings, answer);
}

}  // namespace sk::ledger
