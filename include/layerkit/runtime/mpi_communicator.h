// The MPI communicator: runs collective layers across CPU processes (one engine per rank).
#pragma once

#include <memory>

#include "layerkit/runtime/communicator.h"

namespace layerkit {

// True when this build has MPI support (CMake found MPI).
bool mpi_available();

// A communicator over MPI_COMM_WORLD. MPI must be initialised (MPI_Init) by the program before
// and finalised after; throws kUNSUPPORTED in builds without MPI.
std::shared_ptr<Communicator> make_mpi_communicator();

}  // namespace layerkit
